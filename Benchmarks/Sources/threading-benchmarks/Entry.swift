// threading-benchmarks: every workload, ours beside the peers, medians and ratios in one run.
//
//     swift run -c release --package-path Benchmarks threading-benchmarks [--filter NAME] [--quick]

import Glibc

@main
struct ThreadingBenchmarks {
    /// Nonisolated: every measurement runs raw threads, and nothing here belongs to the main actor.
    nonisolated static func main() {
        let options = Options.parse(CommandLine.arguments)
        let started = now()
        print(
            "swift-threading benchmarks: medians of \(options.samples) interleaved samples per figure"
                + " (contended locks: medians over 100 ms windows); ratio = ours / reference peer, lower is better"
        )
        print(
            "process CPU affinity at start: \(startupAffinity.cpus)"
                + (startupAffinity.count == 1
                    ? ""
                    : " (task rows want the whole process on one CPU: `taskset -c 0 threading-benchmarks --filter task`)")
        )
        print("")
        print(Row.header)
        let report = Report()
        LockWorkloads.run(options, report)
        HandoffWorkloads.run(options, report)
        QueueWorkloads.run(options, report)
        FutureWorkloads.run(options, report)
        CostWorkloads.run(options, report)
        ThreadWorkloads.run(options, report)
        TaskWorkloads.run(options, report)

        let missed = report.rows.filter { $0.verdict.met == false }
        print("")
        print(
            "targets: \(report.rows.filter { $0.verdict.met == true }.count) met, \(missed.count) not met"
                + (missed.isEmpty ? "" : ": " + missed.map(\.workload).joined(separator: "; "))
        )
        print("total time: \(format(now() - started)) s")
    }
}
