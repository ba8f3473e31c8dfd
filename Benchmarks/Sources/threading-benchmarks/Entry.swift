// threading-benchmarks: every workload, ours beside the peers, medians and ratios in one run.
//
//     swift run -c release --package-path Benchmarks threading-benchmarks [--filter NAME] [--quick]

import Foundation

@main
struct ThreadingBenchmarks {
    static func main() {
        let options = Options.parse(CommandLine.arguments)
        print("swift-threading benchmarks: medians of \(options.samples) samples; ratio = ours / peer (lower is better)")
        let groups: [(Options) -> [Row]] = [LockWorkloads.run, HandoffWorkloads.run, CostWorkloads.run, ThreadWorkloads.run]
        for group in groups {
            for row in group(options) { print(row.render()) }
        }
    }
}
