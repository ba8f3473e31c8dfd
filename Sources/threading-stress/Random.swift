// Deterministic pseudo-random numbers: SplitMix64 to expand the seed, xoshiro256** per worker.

/// SplitMix64 (Steele, Lea and Flood): a tiny generator that turns one seed into well-mixed
/// starting states for other generators.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    /// Creates a generator whose sequence depends only on `seed`.
    init(seed: UInt64) {
        state = seed
    }

    /// The next 64 random bits.
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// xoshiro256** (Blackman and Vigna): each worker's own generator, so that the operations a worker
/// chooses depend only on the seed and the worker's number, never on the interleaving.
struct Xoshiro256: RandomNumberGenerator {
    private var s0: UInt64
    private var s1: UInt64
    private var s2: UInt64
    private var s3: UInt64

    /// Creates the generator of stream `stream` (a worker's number) for the run's `seed`.
    init(seed: UInt64, stream: UInt64) {
        var mixer = SplitMix64(seed: seed ^ (stream &* 0xD1B5_4A32_D192_ED03))
        s0 = mixer.next()
        s1 = mixer.next()
        s2 = mixer.next()
        s3 = mixer.next()
    }

    /// The next 64 random bits.
    mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = s3 << 45 | s3 >> 19
        return result
    }

    /// A number in `0..<n` (`n` > 0); the modulo bias is negligible for the small `n` used here.
    mutating func below(_ n: Int) -> Int {
        Int(next() % UInt64(n))
    }

    /// A number in `range`.
    mutating func int(in range: ClosedRange<Int>) -> Int {
        // The bounds, not `range.count`: unoptimized builds (the ThreadSanitizer build) call the
        // generic `count`, which looks up type metadata under a runtime lock on every call.
        range.lowerBound + below(range.upperBound - range.lowerBound + 1)
    }

    /// `true` with probability `percent`/100.
    mutating func chance(_ percent: Int) -> Bool {
        below(100) < percent
    }

    /// A uniformly distributed `Double` in `[0, 1)`.
    mutating func unit() -> Double {
        Double(next() >> 11) * 0x1p-53
    }

    /// A duration in seconds, uniformly distributed in `[low, high)`.
    mutating func seconds(_ low: Double, _ high: Double) -> Double {
        low + (high - low) * unit()
    }
}

/// A fixed set of choices with integer weights, picked with a worker's generator.
struct WeightedChoice<Choice: Sendable>: Sendable {
    private let choices: [Choice]
    private let cumulative: [Int]

    /// Creates the table; every weight must be positive.
    init(_ weighted: [(Choice, Int)]) {
        precondition(!weighted.isEmpty && weighted.allSatisfy { $0.1 > 0 })
        choices = weighted.map(\.0)
        var total = 0
        cumulative = weighted.map {
            total += $0.1
            return total
        }
    }

    /// One choice, with probability proportional to its weight.
    func pick(_ rng: inout Xoshiro256) -> Choice {
        let point = rng.below(cumulative.last!)
        var index = 0
        while cumulative[index] <= point { index += 1 }
        return choices[index]
    }
}
