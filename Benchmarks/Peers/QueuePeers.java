// The Java peers of the queue benchmarks (java.util.concurrent's ArrayBlockingQueue and
// LinkedBlockingQueue), run by threading-benchmarks, which compiles this file with javac into its
// build folder. Prints one "name value" line per figure: the median of SAMPLES runs after a warm-up.
//
//     java -cp DIR QueuePeers pingpong|stream|uncontended|mpmc SAMPLES

import java.util.Arrays;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Supplier;

public class QueuePeers {
    interface Measure { double run() throws Exception; }

    static double median(Measure m, int samples) throws Exception {
        m.run();  // warm-up (JIT)
        m.run();
        double[] v = new double[samples];
        for (int i = 0; i < samples; i++) v[i] = m.run();
        Arrays.sort(v);
        return samples % 2 == 1 ? v[samples / 2] : (v[samples / 2 - 1] + v[samples / 2]) / 2;
    }

    /** µs per put→get round trip between two threads over two queues. */
    static double pingPong(Supplier<BlockingQueue<Integer>> make, int rounds) throws Exception {
        BlockingQueue<Integer> ping = make.get(), pong = make.get();
        Thread partner = new Thread(() -> {
            try {
                for (int i = 0; i < rounds; i++) pong.put(ping.take());
            } catch (InterruptedException e) { throw new RuntimeException(e); }
        });
        partner.start();
        long start = System.nanoTime();
        for (int i = 0; i < rounds; i++) { ping.put(i); pong.take(); }
        long elapsed = System.nanoTime() - start;
        partner.join();
        return elapsed / 1e3 / rounds;
    }

    /** ns per item, one producer thread and one consumer thread. */
    static double stream(Supplier<BlockingQueue<Integer>> make, int n) throws Exception {
        BlockingQueue<Integer> q = make.get();
        Thread consumer = new Thread(() -> {
            try {
                for (int i = 0; i < n; i++) q.take();
            } catch (InterruptedException e) { throw new RuntimeException(e); }
        });
        consumer.start();
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) q.put(i);
        consumer.join();
        return (double) (System.nanoTime() - start) / n;
    }

    /** ns per put+get pair on one thread. */
    static double uncontended(BlockingQueue<Integer> q, int n) throws Exception {
        Integer item = 1;
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) { q.put(item); q.take(); }
        return (double) (System.nanoTime() - start) / n;
    }

    /** Items per second through the queue with 4 producers and 4 consumers. */
    static double mpmc(Supplier<BlockingQueue<Integer>> make, int perProducer) throws Exception {
        BlockingQueue<Integer> q = make.get();
        Thread[] threads = new Thread[8];
        for (int p = 0; p < 4; p++) {
            threads[p] = new Thread(() -> {
                try {
                    for (int i = 0; i < perProducer; i++) q.put(i);
                } catch (InterruptedException e) { throw new RuntimeException(e); }
            });
            threads[4 + p] = new Thread(() -> {
                try {
                    for (int i = 0; i < perProducer; i++) q.take();
                } catch (InterruptedException e) { throw new RuntimeException(e); }
            });
        }
        long start = System.nanoTime();
        for (Thread t : threads) t.start();
        for (Thread t : threads) t.join();
        return 4.0 * perProducer / ((System.nanoTime() - start) / 1e9);
    }

    public static void main(String[] args) throws Exception {
        String what = args[0];
        int samples = Integer.parseInt(args[1]);
        switch (what) {
            case "pingpong":
                System.out.println("ArrayBlockingQueue(64) " + median(() -> pingPong(() -> new ArrayBlockingQueue<>(64), 4000), samples));
                System.out.println("LinkedBlockingQueue " + median(() -> pingPong(LinkedBlockingQueue::new, 4000), samples));
                break;
            case "stream":
                System.out.println("LinkedBlockingQueue " + median(() -> stream(LinkedBlockingQueue::new, 500_000), samples));
                System.out.println("ArrayBlockingQueue(64) " + median(() -> stream(() -> new ArrayBlockingQueue<>(64), 500_000), samples));
                break;
            case "uncontended":
                ArrayBlockingQueue<Integer> abq = new ArrayBlockingQueue<>(64);
                LinkedBlockingQueue<Integer> lbq = new LinkedBlockingQueue<>();
                System.out.println("ArrayBlockingQueue(64) " + median(() -> uncontended(abq, 2_000_000), samples));
                System.out.println("LinkedBlockingQueue " + median(() -> uncontended(lbq, 2_000_000), samples));
                break;
            case "mpmc":
                System.out.println("ArrayBlockingQueue(64) " + median(() -> mpmc(() -> new ArrayBlockingQueue<>(64), 100_000), samples));
                System.out.println("LinkedBlockingQueue " + median(() -> mpmc(LinkedBlockingQueue::new, 100_000), samples));
                break;
            default:
                throw new IllegalArgumentException(what);
        }
    }
}
