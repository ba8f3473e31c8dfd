// snippet: readme-thread
import Threading

// snippet: hide
func threadExample() throws {
    // snippet: show
    let worker = Thread(target: { print("hello from", currentThread().name) }, name: "worker")
    try worker.start()  // worker.ident is set once start() returns
    try worker.join()

    let timer = Timer(interval: 0.5) { print("half a second later") }
    try timer.start()
    // snippet: hide
    try timer.join()
}
// snippet: end
