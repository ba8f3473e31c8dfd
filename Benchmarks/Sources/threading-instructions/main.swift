// threading-instructions: runs one operation N times, for instruction counting under callgrind.
//
//     threading-instructions OPERATION N
//
// The operation is a non-inlined function, ours and the peer's alike. Instructions per operation
// are the difference between the counts of two runs (N = 2M and N = 1M, say) divided by the
// difference in N, which cancels the program's start-up and exit; see Benchmarks/README.md.

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

@inline(never) func nothing(_ value: Int) -> Int { value &+ 1 }

let arguments = CommandLine.arguments
guard arguments.count == 3, let n = Int(arguments[2]), n > 0 else {
    print("usage: threading-instructions rlock|pthread-recursive|semaphore|sem_t|lock|mutex|empty N")
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
case "empty":
    var sum = 0
    for i in 0..<n { sum = nothing(sum &+ i) }
    if sum == 42 { print(sum) }
default:
    print("unknown operation \(arguments[1])")
    exit(2)
}
