/// The storage of every queue: a growable ring buffer of elements, used from the front (FIFO),
/// from the back (LIFO) or as a binary heap (priority).
///
/// It allocates only when it grows, by doubling, so a queue whose length stays within what it
/// has held before allocates nothing per operation. Elements are moved in and out, never copied
/// or released inside: the queue releases them after its lock, because an element's `deinit`
/// may use the queue again. Its owner calls `destroy()` once, from its own `deinit`.
@usableFromInline
struct Ring<Element> {
    @usableFromInline var buffer: UnsafeMutablePointer<Element>
    /// A power of two.
    @usableFromInline var capacity: Int
    /// The physical index of the first element.
    @usableFromInline var head = 0
    @usableFromInline var count = 0

    @usableFromInline
    init(capacity: Int) {
        var size = 8
        while size < capacity { size <<= 1 }
        self.capacity = size
        buffer = .allocate(capacity: size)
    }

    /// The physical slot of the element at logical position `i`.
    @inlinable @inline(__always)
    func slot(_ i: Int) -> UnsafeMutablePointer<Element> {
        buffer + ((head &+ i) & (capacity &- 1))
    }

    /// Adds `element` after the last one.
    @inlinable @inline(__always)
    mutating func append(_ element: consuming Element) {
        if _slowPath(count == capacity) { grow() }
        slot(count).initialize(to: element)
        count &+= 1
    }

    /// Adds `element` after the last one; the ring must not be full.
    @inlinable @inline(__always)
    mutating func appendWithinCapacity(_ element: consuming Element) {
        slot(count).initialize(to: element)
        count &+= 1
    }

    /// Removes and returns the first element; the ring must not be empty.
    @inlinable @inline(__always)
    mutating func removeFirst() -> Element {
        let element = (buffer + head).move()
        head = (head &+ 1) & (capacity &- 1)
        count &-= 1
        return element
    }

    /// Removes and returns the last element; the ring must not be empty.
    @inlinable @inline(__always)
    mutating func removeLast() -> Element {
        count &-= 1
        return slot(count).move()
    }

    /// Doubles the capacity, keeping the elements in order from physical index 0.
    @usableFromInline
    mutating func grow() {
        let newCapacity = capacity * 2
        let newBuffer = UnsafeMutablePointer<Element>.allocate(capacity: newCapacity)
        let firstPart = min(count, capacity - head)
        (newBuffer).moveInitialize(from: buffer + head, count: firstPart)
        (newBuffer + firstPart).moveInitialize(from: buffer, count: count - firstPart)
        buffer.deallocate()
        buffer = newBuffer
        capacity = newCapacity
        head = 0
    }

    /// Moves every element out, in order, leaving the ring empty.
    @usableFromInline
    mutating func removeAll() -> [Element] {
        var elements: [Element] = []
        elements.reserveCapacity(count)
        while count > 0 { elements.append(removeFirst()) }
        head = 0
        return elements
    }

    /// Releases the elements left and the buffer.
    @usableFromInline
    mutating func destroy() {
        while count > 0 { _ = removeFirst() }
        buffer.deallocate()
    }
}

extension Ring {
    /// Adds `element` to a binary min-heap kept in logical positions `0..<count`.
    @inlinable
    mutating func heapPush(_ element: consuming Element, by less: (Element, Element) -> Bool) {
        append(element)
        var child = count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard less(slot(child).pointee, slot(parent).pointee) else { break }
            swap(slot(child), slot(parent))
            child = parent
        }
    }

    /// Removes and returns the smallest element of the heap; the ring must not be empty. Among
    /// equal elements the order is unspecified, as with Python's `heapq`.
    @inlinable
    mutating func heapPop(by less: (Element, Element) -> Bool) -> Element {
        let last = count - 1
        if last > 0 { swap(slot(0), slot(last)) }
        let smallest = removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            guard left < count else { break }
            var child = left
            if left + 1 < count && less(slot(left + 1).pointee, slot(left).pointee) { child = left + 1 }
            guard less(slot(child).pointee, slot(parent).pointee) else { break }
            swap(slot(child), slot(parent))
            parent = child
        }
        return smallest
    }

    @inlinable @inline(__always)
    func swap(_ a: UnsafeMutablePointer<Element>, _ b: UnsafeMutablePointer<Element>) {
        let temporary = a.move()
        a.moveInitialize(from: b, count: 1)
        b.initialize(to: temporary)
    }
}
