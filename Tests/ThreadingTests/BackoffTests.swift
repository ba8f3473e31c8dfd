import Testing

@testable import Threading

/// The spinning a queue's blocked caller does before it parks (`Backoff`).
@Suite struct BackoffTests {
    /// Counts the checks a watch makes, and says "still waiting" for the first `waitingChecks`.
    private static func watch(_ backoff: inout Backoff, peerComing: Bool = false, waitingChecks: Int) -> Int {
        var checks = 0
        backoff.watch(peerComing: peerComing) {
            checks += 1
            return checks <= waitingChecks
        }
        return checks
    }

    @Test(.enabled(if: Platform.cpuCount > 1, "spinning is off on one CPU"))
    func aWaitSpinningDidNotEndTakesOneRoundOffAndOneItEndedAddsItBack() {
        var backoff = Backoff()
        #expect(backoff.spinRounds == Backoff.maxSpinRounds)
        // Never satisfied: one check per round, plus the last one that finds the rounds spent.
        #expect(Self.watch(&backoff, waitingChecks: .max) == Backoff.maxSpinRounds + 1)
        #expect(backoff.spinRounds == Backoff.maxSpinRounds - 1)
        for _ in 0..<2 * Backoff.maxSpinRounds { _ = Self.watch(&backoff, waitingChecks: .max) }
        #expect(backoff.spinRounds == Backoff.minSpinRounds)
        #expect(Self.watch(&backoff, waitingChecks: 1) == 2)
        #expect(backoff.spinRounds == Backoff.minSpinRounds + 1)
        // Satisfied at once: no spin, no change.
        #expect(Self.watch(&backoff, waitingChecks: 0) == 1)
        #expect(backoff.spinRounds == Backoff.minSpinRounds + 1)
    }

    @Test(.enabled(if: Platform.cpuCount > 1, "spinning is off on one CPU"))
    func aWaitForAComingPeerSpinsLongerAndLeavesTheRoundsAlone() {
        #expect(Backoff.comingSpinRounds > Backoff.maxSpinRounds)
        var backoff = Backoff()
        for _ in 0..<2 * Backoff.maxSpinRounds { _ = Self.watch(&backoff, waitingChecks: .max) }
        #expect(backoff.spinRounds == Backoff.minSpinRounds)
        // Even with the rounds run down, a coming peer is watched for the longest.
        #expect(Self.watch(&backoff, peerComing: true, waitingChecks: .max) == Backoff.comingSpinRounds + 1)
        #expect(backoff.spinRounds == Backoff.minSpinRounds)
        #expect(Self.watch(&backoff, peerComing: true, waitingChecks: 8) == 9)
        #expect(backoff.spinRounds == Backoff.minSpinRounds)
    }
}
