/// Lets an actor's reconciliations run one at a time: an actor method that awaits lets the
/// next call in, and two passes interleaving their commands would trip over each other
/// (both adding the same device). Each reconciler holds one and passes through it.
struct Turnstile {
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    /// True when the caller may go on now; else it must `wait`.
    mutating func enter() -> Bool {
        if busy { return false }
        busy = true
        return true
    }

    /// Queues a caller that found it busy; `leave` resumes it.
    mutating func wait(_ continuation: CheckedContinuation<Void, Never>) { waiting.append(continuation) }

    /// The next caller to resume (it now holds the turnstile), or nil when none waits.
    mutating func leave() -> CheckedContinuation<Void, Never>? {
        if waiting.isEmpty {
            busy = false
            return nil
        }
        return waiting.removeFirst()
    }
}
