import Synchronization

/// Set when graceful shutdown begins; the consume loop checks it between batches.
final class ShutdownFlag: Sendable {
    private let value = Atomic<Bool>(false)

    var isSet: Bool { value.load(ordering: .acquiring) }

    func set() {
        value.store(true, ordering: .releasing)
    }
}
