import Synchronization
import Jobs
import Logging
import Model
import ServiceKit
import ServiceLifecycle

/// The known modalities as every request of the DICOM server sees them: a snapshot of the registry (configuration
/// file and database), refreshed in the background so that access checks, on every C-STORE, never wait for the
/// database. Until the database answers, the configuration file's modalities.
public final class ModalityDirectory: Service, Sendable {
    private let registry: ModalityRegistry
    private let interval: Duration
    private let logger: Logger
    private let snapshot: Mutex<[String: ModalityConfiguration]>

    public init(registry: ModalityRegistry, configured: [String: ModalityConfiguration], inDatabase: Bool,
                interval: Duration = .seconds(2), logger: Logger) {
        self.registry = registry
        self.interval = interval
        self.logger = logger
        self.snapshot = Mutex(inDatabase ? [:] : configured)
    }

    /// The modalities by symbolic name, as last read.
    public var modalities: [String: ModalityConfiguration] {
        snapshot.withLock { $0 }
    }

    /// Reads the registry now.
    public func refresh() async throws {
        let all = try await registry.all()
        snapshot.withLock { $0 = all }
    }

    public func run() async throws {
        await PeriodicRefresh.run(every: interval, what: "the modalities", logger: logger) { try await refresh() }
    }
}
