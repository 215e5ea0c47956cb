import Synchronization

/// Whether a process has seen the index schema current. Requests that need the index wait for it (the REST API
/// answers 503 until then), so a service that starts before PostgreSQL, or while another replica migrates, never
/// answers from half a schema.
public final class SchemaReadiness: Sendable {
    private let ready = Atomic<Bool>(false)

    public init() {}

    public var isReady: Bool { ready.load(ordering: .acquiring) }

    func markReady() {
        ready.store(true, ordering: .releasing)
    }
}
