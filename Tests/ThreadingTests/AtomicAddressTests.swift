import Synchronization
import Testing

@testable import Threading

/// The futex calls rely on `address(of:)` returning an atomic word's one real address.
@Suite struct AtomicAddressTests {
    @Test func addressOfAClassFieldLiesInsideTheObjectAndIsStable() {
        let lock = Lock()
        let base = UInt(bitPattern: Unmanaged.passUnretained(lock).toOpaque())
        let first = UInt(bitPattern: address(of: lock.word))
        let second = UInt(bitPattern: address(of: lock.word))
        #expect(first == second)
        #expect(first >= base + 16)  // after the object header
        #expect(first < base + 32)
    }

    @Test func addressOfReflectsStoresMadeThroughTheObject() throws {
        let lock = Lock()
        let word = address(of: lock.word)
        #expect(word.pointee.load(ordering: .relaxed) == 0)
        try lock.acquire()
        #expect(word.pointee.load(ordering: .relaxed) == 1)
        try lock.release()
        #expect(word.pointee.load(ordering: .relaxed) == 0)
    }

    @Test func rlockFieldsHaveDistinctAddresses() {
        let rlock = RLock()
        let base = UInt(bitPattern: Unmanaged.passUnretained(rlock).toOpaque())
        let word = UInt(bitPattern: address(of: rlock.word))
        #expect(word >= base + 16 && word < base + 48)
    }
}
