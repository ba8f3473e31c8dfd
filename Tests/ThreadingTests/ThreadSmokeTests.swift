import Testing

@testable import Threading

@Suite struct ThreadSmokeTests {
    @Test func startJoin() throws {
        let ran = Counter()
        let t = Thread(target: { ran.increment() }, name: "smoke", daemon: false)
        #expect(t.description == "<Thread(smoke, initial)>")
        #expect(t.ident == nil)
        try t.start()
        #expect(t.ident != nil)
        #expect(t.nativeID != nil)
        try t.join()
        #expect(ran.current == 1)
        #expect(!t.isAlive)
        #expect(!enumerate().contains { $0 === t })
        #expect(t.description == "<Thread(smoke, stopped \(t.ident!))>")
    }

    @Test func dummyAndMain() throws {
        #expect(mainThread().name == "MainThread")
        let names = SharedList<String>()
        spawn(1) { _ in
            let me = currentThread()
            names.append(me.description)
            names.append("\(enumerate().contains { $0 === me })")
        }.joinAll()
        #expect(names.values[0].hasPrefix("<_DummyThread(Dummy-"))
        #expect(names.values[1] == "true")
    }

    @Test func packArgs() throws {
        let got = SharedList<String>()
        let t = Thread(target: { (a: Int, b: String) in got.append("\(a)\(b)") }, args: (1, "x"))
        try t.start()
        try t.join()
        #expect(got.values == ["1x"])
        let timer = Timer(interval: 0.05) { got.append("fired") }
        let elapsed = try measure {
            try timer.start()
            try timer.join()
        }
        #expect(elapsed >= 0.05)
        #expect(got.values == ["1x", "fired"])
    }
}
