# The CPython peers of the queue benchmarks (queue.Queue and queue.SimpleQueue), run by
# threading-benchmarks with python3. Prints one "name value" line per figure: the median of
# SAMPLES runs after a warm-up.
#
#     python3 queue_peers.py pingpong|stream|uncontended|mpmc SAMPLES

import queue
import statistics
import sys
import threading
import time


def median(f, samples):
    f()
    return statistics.median(f() for _ in range(samples))


def ping_pong(make, rounds=2000):
    ping, pong = make(), make()

    def partner():
        for _ in range(rounds):
            pong.put(ping.get())

    t = threading.Thread(target=partner)
    t.start()
    start = time.perf_counter()
    for i in range(rounds):
        ping.put(i)
        pong.get()
    elapsed = time.perf_counter() - start
    t.join()
    return elapsed * 1e6 / rounds


def stream(make, n=50_000):
    q = make()

    def consumer():
        for _ in range(n):
            q.get()

    t = threading.Thread(target=consumer)
    t.start()
    start = time.perf_counter()
    for i in range(n):
        q.put(i)
    t.join()
    return (time.perf_counter() - start) * 1e9 / n


def uncontended(make, n=200_000):
    q = make()
    start = time.perf_counter()
    for i in range(n):
        q.put(i)
        q.get()
    return (time.perf_counter() - start) * 1e9 / n


def mpmc(make, per_producer=10_000):
    q = make()
    threads = [threading.Thread(target=lambda: [q.put(i) for i in range(per_producer)]) for _ in range(4)]
    threads += [threading.Thread(target=lambda: [q.get() for _ in range(per_producer)]) for _ in range(4)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return 4 * per_producer / (time.perf_counter() - start)


if __name__ == "__main__":
    what, samples = sys.argv[1], int(sys.argv[2])
    if what == "pingpong":
        print("CPython Queue", median(lambda: ping_pong(queue.Queue), samples))
        print("CPython SimpleQueue", median(lambda: ping_pong(queue.SimpleQueue), samples))
    elif what == "stream":
        print("CPython Queue", median(lambda: stream(queue.Queue), samples))
        print("CPython Queue(64)", median(lambda: stream(lambda: queue.Queue(64)), samples))
        print("CPython SimpleQueue", median(lambda: stream(queue.SimpleQueue), samples))
    elif what == "uncontended":
        print("CPython Queue", median(lambda: uncontended(queue.Queue), samples))
        print("CPython SimpleQueue", median(lambda: uncontended(queue.SimpleQueue), samples))
    elif what == "mpmc":
        print("CPython Queue(64)", median(lambda: mpmc(lambda: queue.Queue(64)), samples))
    else:
        raise SystemExit("unknown workload " + what)
