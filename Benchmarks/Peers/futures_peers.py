# The CPython peers of the futures benchmarks (concurrent.futures), run by threading-benchmarks
# with python3. Prints one "name value" line per figure: the median of SAMPLES runs after a
# warm-up.
#
#     python3 futures_peers.py roundtrip|submit-many|set-result|wait-100 SAMPLES

import concurrent.futures
import statistics
import sys
import time


def median(f, samples):
    f()
    return statistics.median(f() for _ in range(samples))


def empty():
    pass


def round_trip(pool, rounds=5000):
    """µs per submit → result round trip on a one-thread pool."""
    start = time.perf_counter()
    for _ in range(rounds):
        pool.submit(empty).result()
    return (time.perf_counter() - start) * 1e6 / rounds


def submit_many(pool, n=20_000):
    """ns per item: submit n empty items, then wait for all."""
    start = time.perf_counter()
    futures = [pool.submit(empty) for _ in range(n)]
    concurrent.futures.wait(futures)
    return (time.perf_counter() - start) * 1e9 / n


def set_result(n=100_000):
    """ns per Future(), set_result, result()."""
    start = time.perf_counter()
    for i in range(n):
        f = concurrent.futures.Future()
        f.set_result(i)
        f.result()
    return (time.perf_counter() - start) * 1e9 / n


def wait_100(rounds=2000):
    """ns per future: wait() on 100 finished futures."""
    futures = []
    for i in range(100):
        f = concurrent.futures.Future()
        f.set_result(i)
        futures.append(f)
    start = time.perf_counter()
    for _ in range(rounds):
        concurrent.futures.wait(futures)
    return (time.perf_counter() - start) * 1e9 / rounds / 100


if __name__ == "__main__":
    what, samples = sys.argv[1], int(sys.argv[2])
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        if what == "roundtrip":
            print("CPython ThreadPoolExecutor(1)", median(lambda: round_trip(pool), samples))
        elif what == "submit-many":
            print("CPython ThreadPoolExecutor(1)", median(lambda: submit_many(pool), samples))
        elif what == "set-result":
            print("CPython Future", median(set_result, samples))
        elif what == "wait-100":
            print("CPython wait", median(wait_100, samples))
        else:
            raise SystemExit(f"unknown workload {what}")
