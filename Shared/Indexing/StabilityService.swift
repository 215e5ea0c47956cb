import Index
import Logging
import ServiceLifecycle

/// Runs the stability sweep every second until shutdown: `StableSeries` / `StableStudy` / `StablePatient` once a
/// resource got no new instance for `StableAge` seconds. Any number of indexers may run it.
public struct StabilityService: Service {
    let database: IndexDatabase
    let sweep: StabilitySweep
    let stableAgeSeconds: Int
    let logger: Logger

    public init(database: IndexDatabase, stableAgeSeconds: Int, logger: Logger) {
        self.database = database
        self.sweep = StabilitySweep(database: database)
        self.stableAgeSeconds = stableAgeSeconds
        self.logger = logger
    }

    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { try await database.migrateWhenAvailable() }
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                do {
                    let stable = try await sweep.run(stableAgeSeconds: stableAgeSeconds)
                    if !stable.isEmpty {
                        logger.debug("Resources became stable", metadata: ["count": "\(stable.count)"])
                    }
                } catch {
                    logger.warning("Stability sweep failed; retrying", metadata: ["error": "\(String(reflecting: error))"])
                }
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(1)) }
            }
        } catch is CancellationError {}
    }
}
