// threading-stress: the randomized stress checker of swift-threading (entry point).
//
//     swift run -c release threading-stress --seconds 20 --threads 8 --seed 42

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

let options = Options.parse(Array(CommandLine.arguments.dropFirst()))
exit(Harness(options: options).run())
