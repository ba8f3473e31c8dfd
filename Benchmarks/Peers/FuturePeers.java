// The Java peers of the futures benchmarks (Executors.newFixedThreadPool(1) with Future.get, and
// CompletableFuture), run by threading-benchmarks, which compiles this file with javac into its
// build folder. Prints one "name value" line per figure: the median of SAMPLES runs after a warm-up.
//
//     java -cp DIR FuturePeers roundtrip|submit-many|set-result SAMPLES

import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

public class FuturePeers {
    interface Measure { double run() throws Exception; }

    static double median(Measure m, int samples) throws Exception {
        m.run();  // warm-up (JIT)
        m.run();
        double[] v = new double[samples];
        for (int i = 0; i < samples; i++) v[i] = m.run();
        Arrays.sort(v);
        return samples % 2 == 1 ? v[samples / 2] : (v[samples / 2 - 1] + v[samples / 2]) / 2;
    }

    static final Runnable EMPTY = () -> {};

    /** µs per submit → get round trip on a one-thread pool. */
    static double roundTrip(ExecutorService pool, int rounds) throws Exception {
        long start = System.nanoTime();
        for (int i = 0; i < rounds; i++) pool.submit(EMPTY).get();
        return (System.nanoTime() - start) / 1e3 / rounds;
    }

    /** ns per item: submit n empty items, then get every future. */
    static double submitMany(ExecutorService pool, int n) throws Exception {
        Future<?>[] futures = new Future<?>[n];
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) futures[i] = pool.submit(EMPTY);
        for (Future<?> f : futures) f.get();
        return (double) (System.nanoTime() - start) / n;
    }

    static volatile long sink;

    /** ns per new CompletableFuture, complete, get. */
    static double setResult(int n) throws Exception {
        long sum = 0;
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            CompletableFuture<Integer> f = new CompletableFuture<>();
            f.complete(i);
            sum += f.get();
        }
        sink = sum;
        return (double) (System.nanoTime() - start) / n;
    }

    public static void main(String[] args) throws Exception {
        String what = args[0];
        int samples = Integer.parseInt(args[1]);
        ExecutorService pool = Executors.newFixedThreadPool(1);
        switch (what) {
            case "roundtrip":
                System.out.println("Java FixedThreadPool(1) " + median(() -> roundTrip(pool, 20_000), samples));
                break;
            case "submit-many":
                System.out.println("Java FixedThreadPool(1) " + median(() -> submitMany(pool, 100_000), samples));
                break;
            case "set-result":
                System.out.println("Java CompletableFuture " + median(() -> setResult(1_000_000), samples));
                break;
            default:
                throw new IllegalArgumentException(what);
        }
        pool.shutdown();
    }
}
