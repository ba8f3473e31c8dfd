// threading-demo: the classic examples of Python's threading documentation, in Swift.
//
//     swift run threading-demo

import Threading

try ThreadExamples.run()
try ProducerConsumer.run()
try ConnectionPool.run()
try BarrierRendezvous.run()
try EventStartSignal.run()
try QueueWorkerPool.run()
try ThreadPoolDownloads.run()
say("-- done")
