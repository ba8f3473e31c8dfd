// Threading, Foundation and NIO in one file: the scoped imports pick Threading's Thread, Timer,
// Semaphore, Lock and Condition for the unqualified names; the other modules' types stay
// reachable by their module's name.

// snippet: readme-scoped-imports
import Foundation
import NIOConcurrencyHelpers
import Threading

import class Threading.Condition
import class Threading.Lock
import class Threading.Semaphore
import class Threading.Thread
import class Threading.Timer

// snippet: hide
func scopedImports() throws {
    // snippet: show
    let lock = Lock()  // Threading.Lock, not NIO's deprecated Lock
    let ready = Condition(lock)
    let slots = try Semaphore(2)  // Threading.Semaphore
    let worker = Thread {  // Threading.Thread, not Foundation.Thread(block:)
        try slots.acquire()
        try ready.withLock { try ready.notify() }
        try slots.release()
    }
    try worker.start()
    let timer = Timer(interval: 0.1) { print("tick") }  // Threading.Timer
    try timer.start()

    let nioLock = NIOLock()  // the other modules' types by their own names
    let foundationThread = Foundation.Thread { nioLock.withLock { print("on a Foundation thread") } }
    foundationThread.start()
    // snippet: hide
    try worker.join()
    try timer.join()
    while !foundationThread.isFinished { usleep(1000) }
    _ = ready
    print("-- done")
}

try scopedImports()
// snippet: end
