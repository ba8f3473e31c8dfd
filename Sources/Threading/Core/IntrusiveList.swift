/// A node of an `IntrusiveList`: the links live in the node itself.
@usableFromInline
protocol IntrusiveNode: ~Copyable {
    var next: UnsafeMutablePointer<Self>? { get set }
    var previous: UnsafeMutablePointer<Self>? { get set }
    /// Whether the node is in a list now.
    var isQueued: Bool { get set }
}

/// A doubly linked FIFO list of nodes that live elsewhere (a waiting thread's stack, or the heap
/// for a task), changed only under its owner's lock: the parking lot's queues and `LockedValue`'s
/// waiters.
///
/// - Complexity: O(1) for every operation.
@usableFromInline
struct IntrusiveList<Node: IntrusiveNode & ~Copyable> {
    @usableFromInline
    var head: UnsafeMutablePointer<Node>? = nil
    var tail: UnsafeMutablePointer<Node>? = nil

    @usableFromInline
    init() {}

    @inlinable
    var isEmpty: Bool { head == nil }

    mutating func append(_ node: UnsafeMutablePointer<Node>) {
        node.pointee.previous = tail
        node.pointee.next = nil
        node.pointee.isQueued = true
        if let tail { tail.pointee.next = node } else { head = node }
        tail = node
    }

    mutating func prepend(_ node: UnsafeMutablePointer<Node>) {
        node.pointee.previous = nil
        node.pointee.next = head
        node.pointee.isQueued = true
        if let head { head.pointee.previous = node } else { tail = node }
        head = node
    }

    mutating func remove(_ node: UnsafeMutablePointer<Node>) {
        let previous = node.pointee.previous
        let next = node.pointee.next
        if let previous { previous.pointee.next = next } else { head = next }
        if let next { next.pointee.previous = previous } else { tail = previous }
        node.pointee.previous = nil
        node.pointee.next = nil
        node.pointee.isQueued = false
    }
}
