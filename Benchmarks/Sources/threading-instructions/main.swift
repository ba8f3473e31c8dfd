// threading-instructions: runs one operation N times, for instruction counting under callgrind.
//
//     threading-instructions OPERATION N
//
// The operation is a non-inlined function, ours and the peer's alike. Instructions per operation
// are the difference between the counts of two runs (N = 2M and N = 1M, say) divided by the
// difference in N, which cancels the program's start-up and exit; see Benchmarks/README.md.

import CBench
import Dispatch
import Floors
import Glibc
import Synchronization
import Threading

@inline(never) func rlockThreeDeep(_ lock: RLock) {
    try! lock.acquire()
    try! lock.acquire()
    try! lock.acquire()
    try! lock.release()
    try! lock.release()
    try! lock.release()
}

@inline(never) func pthreadRecursiveThreeDeep(_ mutex: UnsafeMutablePointer<pthread_mutex_t>) {
    pthread_mutex_lock(mutex)
    pthread_mutex_lock(mutex)
    pthread_mutex_lock(mutex)
    pthread_mutex_unlock(mutex)
    pthread_mutex_unlock(mutex)
    pthread_mutex_unlock(mutex)
}

@inline(never) func semaphoreAcquireRelease(_ semaphore: Threading.Semaphore) {
    _ = try! semaphore.acquire()
    try! semaphore.release()
}

@inline(never) func semTWaitPost(_ semaphore: UnsafeMutablePointer<sem_t>) {
    sem_wait(semaphore)
    sem_post(semaphore)
}

@inline(never) func lockAcquireRelease(_ lock: Lock) {
    _ = try! lock.acquire()
    try! lock.release()
}

@inline(never) func mutexLockUnlock(_ mutex: borrowing Mutex<Int>) {
    mutex.withLock { $0 &+= 1 }
}

// The futures are made by non-inlined functions, so that both live on the heap (the optimizer
// would otherwise keep the Mutex-based one on the stack).
@inline(never) func makeFuture() -> Future<Int> { Future<Int>() }
@inline(never) func makeMutexFuture() -> MutexFuture { MutexFuture() }

@inline(never) func futureSetResult(_ value: Int) -> Int {
    let future = makeFuture()
    try! future.setResult(value)
    return try! future.result()
}

@inline(never) func futureResult(_ future: Future<Int>) -> Int {
    try! future.result()
}

@inline(never) func futureException(_ future: Future<Int>) -> Bool {
    try! future.exception() == nil
}

@inline(never) func futureWait(_ futures: [Future<Int>]) -> Int {
    try! wait(futures).done.count
}

/// The minimal future the `Future` figures are compared with: a `Mutex` around an optional `Int`
/// (not generic: a generic class's unspecialized `deinit` would look its field types up).
final class MutexFuture: Sendable {
    private let value = Mutex<Int?>(nil)
    func set(_ newValue: Int) { value.withLock { $0 = newValue } }
    func get() -> Int? { value.withLock { $0 } }
}

/// The floor of any class-based future: a bare final class holding an `Int`, allocated, read and
/// released.
final class BareObject {
    let value: Int
    init(_ value: Int) { self.value = value }
}

@inline(never) func makeBareObject(_ value: Int) -> BareObject { BareObject(value) }

@inline(never) func bareObjectAllocRelease(_ value: Int) -> Int {
    makeBareObject(value).value
}

@inline(never) func mutexFutureSetGet(_ value: Int) -> Int {
    let future = makeMutexFuture()
    future.set(value)
    return future.get()!
}

/// Runs `body` in a detached task and blocks this thread until it ends.
func runTask(_ body: @escaping @Sendable () async -> Void) {
    let done = DispatchSemaphore(value: 0)
    Task.detached {
        await body()
        done.signal()
    }
    done.wait()
}

/// `n` round trips between two tasks: `release` one way, `acquire` back.
func taskPingPong(
    _ n: Int,
    release: @escaping @Sendable (_ partner: Bool) -> Void,
    acquire: @escaping @Sendable (_ partner: Bool) async -> Void
) {
    runTask {
        let partner = Task.detached {
            for _ in 0..<n {
                await acquire(true)
                release(true)
            }
        }
        for _ in 0..<n {
            release(false)
            await acquire(false)
        }
        await partner.value
    }
}

@inline(never) func nothing(_ value: Int) -> Int { value &+ 1 }

@inline(never) func queuePutGet(_ queue: Threading.Queue<Int>, _ value: Int) -> Int {
    try! queue.put(value)
    return try! queue.get()
}

@inline(never) func simpleQueuePutGet(_ queue: SimpleQueue<Int>, _ value: Int) -> Int {
    queue.put(value)
    return try! queue.get()
}

/// The floor the queues' `put` + `get` are compared with: a `Mutex` around an array used as a
/// ring, no waiting, no bound (what a queue's lock and storage cost by themselves).
final class MutexArrayQueue: Sendable {
    private struct Storage {
        var items: [Int] = []
        var head = 0
    }
    private let storage = Mutex(Storage())

    func put(_ item: Int) { storage.withLock { $0.items.append(item) } }

    func get() -> Int? {
        storage.withLock { s -> Int? in
            guard s.head < s.items.count else { return nil }
            let item = s.items[s.head]
            s.head += 1
            if s.head == s.items.count {
                s.items.removeAll(keepingCapacity: true)
                s.head = 0
            }
            return item
        }
    }
}

@inline(never) func mutexArrayPutGet(_ queue: MutexArrayQueue, _ value: Int) -> Int {
    queue.put(value)
    return queue.get()!
}

/// Pins the calling thread to CPU 0.
func pinToCPU0() {
    _ = cbench_pin(0)
}

/// `n` round trips between two threads, both on CPU 0: `hand(partner)` passes the turn,
/// `take(partner)` waits for it (for futex and context-switch counts per round trip).
func threadPingPong(_ n: Int, hand: @escaping @Sendable (Bool) -> Void, take: @escaping @Sendable (Bool) -> Void) {
    pinToCPU0()
    let partner = Thread(target: {
        pinToCPU0()
        for _ in 0..<n {
            take(true)
            hand(true)
        }
    })
    try! partner.start()
    for _ in 0..<n {
        hand(false)
        take(false)
    }
    try! partner.join()
}

/// `n` items from this thread to another one (unpinned), for futex and context-switch counts.
func threadStream(_ n: Int, put: @escaping @Sendable (Int) -> Void, get: @escaping @Sendable () -> Void) {
    let consumer = Thread(target: {
        for _ in 0..<n { get() }
    })
    try! consumer.start()
    for i in 0..<n { put(i) }
    try! consumer.join()
}

@inline(never) func threadStartJoin() {
    let thread = Threading.Thread(target: {}, daemon: true)
    try! thread.start()
    try! thread.join()
}

private func emptyEntry(_: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? { nil }

@inline(never) func pthreadStartJoin() {
    var handle = pthread_t()
    pthread_create(&handle, nil, emptyEntry, nil)
    pthread_join(handle, nil)
}

// Written before the peer's partner thread is created, read by it only.
nonisolated(unsafe) var peerIterations = 0

// The peer's partner thread: a nonisolated function (a closure written in this file would be
// taken as isolated to the main actor, and checked for it).
private func pthreadBarrierPartner(_ raw: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    let barrier = raw!.assumingMemoryBound(to: pthread_barrier_t.self)
    for _ in 0..<peerIterations { pthreadBarrierWait(barrier) }
    return nil
}

@inline(never) func barrierWait(_ barrier: Threading.Barrier) { try! barrier.wait() }

@inline(never) func pthreadBarrierWait(_ barrier: UnsafeMutablePointer<pthread_barrier_t>) {
    pthread_barrier_wait(barrier)
}

let arguments = CommandLine.arguments
guard arguments.count == 3, let n = Int(arguments[2]), n > 0 else {
    print(
        "usage: threading-instructions rlock|pthread-recursive|semaphore|sem_t|lock|mutex"
            + "|future-set-result|mutex-future|alloc-release|future-result|future-exception|future-wait-100"
            + "|pool-submit|pool-roundtrip|pool-run|empty"
            + "|thread-start-join|pthread-start-join|barrier-2|pthread-barrier-2|barrier-4|pthread-barrier-4"
            + "|task-semaphore|task-floor|task-semaphore-pingpong|task-event-pingpong|task-floor-pingpong"
            + "|queue-put-get|bounded-queue-put-get|simplequeue-put-get|mutex-array-put-get"
            + "|queue-pingpong|simplequeue-pingpong|event-pingpong|queue-stream|bounded-queue-stream N"
    )
    exit(2)
}
switch arguments[1] {
case "rlock":
    let lock = RLock()
    for _ in 0..<n { rlockThreeDeep(lock) }
case "pthread-recursive":
    let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    var attr = pthread_mutexattr_t()
    pthread_mutexattr_init(&attr)
    pthread_mutexattr_settype(&attr, Int32(PTHREAD_MUTEX_RECURSIVE))
    pthread_mutex_init(mutex, &attr)
    for _ in 0..<n { pthreadRecursiveThreeDeep(mutex) }
case "semaphore":
    let semaphore = try! Threading.Semaphore(1)
    for _ in 0..<n { semaphoreAcquireRelease(semaphore) }
case "sem_t":
    let semaphore = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)
    sem_init(semaphore, 0, 1)
    for _ in 0..<n { semTWaitPost(semaphore) }
case "lock":
    let lock = Lock()
    for _ in 0..<n { lockAcquireRelease(lock) }
case "mutex":
    let mutex = Mutex(0)
    for _ in 0..<n { mutexLockUnlock(mutex) }
case "future-set-result":
    var sum = 0
    for i in 0..<n { sum &+= futureSetResult(i) }
    if sum == 42 { print(sum) }
case "mutex-future":
    var sum = 0
    for i in 0..<n { sum &+= mutexFutureSetGet(i) }
    if sum == 42 { print(sum) }
case "alloc-release":
    var sum = 0
    for i in 0..<n { sum &+= bareObjectAllocRelease(i) }
    if sum == 42 { print(sum) }
case "future-result":
    let future = Future<Int>()
    try! future.setResult(1)
    var sum = 0
    for _ in 0..<n { sum &+= futureResult(future) }
    if sum == 42 { print(sum) }
case "future-exception":
    let future = Future<Int>()
    try! future.setResult(1)
    var count = 0
    for _ in 0..<n where futureException(future) { count += 1 }
    if count == 42 { print(count) }
case "future-wait-100":
    let futures = (0..<100).map { _ in Future<Int>() }
    for future in futures { try! future.setResult(1) }
    var sum = 0
    for _ in 0..<n { sum &+= futureWait(futures) }
    if sum == 42 { print(sum) }
case "pool-submit":
    // N empty items submitted to a one-worker pool, then waited for: the submit side and the
    // worker's side together.
    let pool = try! ThreadPoolExecutor(maxWorkers: 1)
    var futures: [Future<Void>] = []
    futures.reserveCapacity(n)
    for _ in 0..<n { futures.append(try! pool.submit {}) }
    _ = try! wait(futures)
    pool.shutdown()
case "pool-roundtrip":
    // N blocking `submit {}` → `result()` round trips on a one-worker pool (what pool-run is
    // compared with).
    let pool = try! ThreadPoolExecutor(maxWorkers: 1)
    for _ in 0..<n { _ = try! pool.submit {}.result() }
    pool.shutdown()
case "pool-run":
    // N `await pool.run {}` in a row from one task, on a one-worker pool.
    let pool = try! ThreadPoolExecutor(maxWorkers: 1)
    let done = DispatchSemaphore(value: 0)
    Task.detached {
        for _ in 0..<n { try! await pool.run {} }
        done.signal()
    }
    done.wait()
    pool.shutdown()
case "thread-start-join":
    for _ in 0..<n { threadStartJoin() }
case "pthread-start-join":
    for _ in 0..<n { pthreadStartJoin() }
case "barrier-2", "barrier-4":
    // N generations of a 2- or 4-party barrier: this thread and its partners.
    let parties = arguments[1] == "barrier-2" ? 2 : 4
    let barrier = try! Threading.Barrier(parties)
    let partners = (1..<parties).map { _ in Threading.Thread(target: { for _ in 0..<n { barrierWait(barrier) } }) }
    for partner in partners { try! partner.start() }
    for _ in 0..<n { barrierWait(barrier) }
    for partner in partners { try! partner.join() }
case "pthread-barrier-2", "pthread-barrier-4":
    let parties = arguments[1] == "pthread-barrier-2" ? 2 : 4
    let barrier = UnsafeMutablePointer<pthread_barrier_t>.allocate(capacity: 1)
    pthread_barrier_init(barrier, nil, UInt32(parties))
    peerIterations = n
    var partners = [pthread_t](repeating: pthread_t(), count: parties - 1)
    for i in partners.indices { pthread_create(&partners[i], nil, pthreadBarrierPartner, barrier) }
    for _ in 0..<n { pthreadBarrierWait(barrier) }
    for partner in partners { pthread_join(partner, nil) }
case "empty":
    var sum = 0
    for i in 0..<n { sum = nothing(sum &+ i) }
    if sum == 42 { print(sum) }
case "task-semaphore":
    let semaphore = try! Threading.Semaphore(1)
    runTask {
        for _ in 0..<n {
            _ = try! await semaphore.acquire()
            try! semaphore.release()
        }
    }
case "task-floor":
    let semaphore = FloorSemaphore(1)
    runTask {
        for _ in 0..<n {
            await semaphore.acquire()
            semaphore.release()
        }
    }
case "task-semaphore-pingpong":
    let semaphores = [try! Threading.Semaphore(0), try! Threading.Semaphore(0)]
    taskPingPong(
        n,
        release: { try! semaphores[$0 ? 1 : 0].release() },
        acquire: { _ = try! await semaphores[$0 ? 0 : 1].acquire() }
    )
case "task-event-pingpong":
    let events = [Event(), Event()]
    taskPingPong(
        n,
        release: { events[$0 ? 1 : 0].set() },
        acquire: {
            let event = events[$0 ? 0 : 1]
            _ = try! await event.wait()
            event.clear()
        }
    )
case "task-cancellable-floor-pingpong":
    let semaphores = [CancellableFloorSemaphore(0), CancellableFloorSemaphore(0)]
    taskPingPong(
        n,
        release: { semaphores[$0 ? 1 : 0].release() },
        acquire: { try! await semaphores[$0 ? 0 : 1].acquire() }
    )
case "task-queue-pingpong":
    let queues = [Queue<Int>(), Queue<Int>()]
    taskPingPong(
        n,
        release: { try! queues[$0 ? 1 : 0].put(0) },
        acquire: { _ = try! await queues[$0 ? 0 : 1].get() }
    )
case "task-simplequeue-pingpong":
    let queues = [SimpleQueue<Int>(), SimpleQueue<Int>()]
    taskPingPong(
        n,
        release: { queues[$0 ? 1 : 0].put(0) },
        acquire: { _ = try! await queues[$0 ? 0 : 1].get() }
    )
case "task-floor-pingpong":
    let semaphores = [FloorSemaphore(0), FloorSemaphore(0)]
    taskPingPong(
        n,
        release: { semaphores[$0 ? 1 : 0].release() },
        acquire: { await semaphores[$0 ? 0 : 1].acquire() }
    )
case "queue-put-get":
    let queue = Threading.Queue<Int>()
    var sum = 0
    for i in 0..<n { sum &+= queuePutGet(queue, i) }
    if sum == 42 { print(sum) }
case "bounded-queue-put-get":
    let queue = Threading.Queue<Int>(maxsize: 64)
    var sum = 0
    for i in 0..<n { sum &+= queuePutGet(queue, i) }
    if sum == 42 { print(sum) }
case "simplequeue-put-get":
    let queue = SimpleQueue<Int>()
    var sum = 0
    for i in 0..<n { sum &+= simpleQueuePutGet(queue, i) }
    if sum == 42 { print(sum) }
case "mutex-array-put-get":
    let queue = MutexArrayQueue()
    var sum = 0
    for i in 0..<n { sum &+= mutexArrayPutGet(queue, i) }
    if sum == 42 { print(sum) }
case "queue-pingpong":
    let queues = [Threading.Queue<Int>(), Threading.Queue<Int>()]
    threadPingPong(n, hand: { try! queues[$0 ? 1 : 0].put(1) }, take: { _ = try! queues[$0 ? 0 : 1].get() })
case "simplequeue-pingpong":
    let queues = [SimpleQueue<Int>(), SimpleQueue<Int>()]
    threadPingPong(n, hand: { queues[$0 ? 1 : 0].put(1) }, take: { _ = try! queues[$0 ? 0 : 1].get() })
case "event-pingpong":
    let events = [Event(), Event()]
    threadPingPong(
        n,
        hand: { events[$0 ? 1 : 0].set() },
        take: {
            let event = events[$0 ? 0 : 1]
            _ = try! event.wait()
            event.clear()
        }
    )
case "queue-stream":
    let queue = Threading.Queue<Int>()
    threadStream(n, put: { try! queue.put($0) }, get: { _ = try! queue.get() })
case "bounded-queue-stream":
    let queue = Threading.Queue<Int>(maxsize: 64)
    threadStream(n, put: { try! queue.put($0) }, get: { _ = try! queue.get() })
default:
    print("unknown operation \(arguments[1])")
    exit(2)
}
