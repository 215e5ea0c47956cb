import Index
import Logging
import ServiceLifecycle

/// Runs the stability sweep every second until shutdown: `StableSeries` / `StableStudy` / `StablePatient`
/// once a resource got no new instance for `StableAge` seconds. Any number of indexers may run it.
struct StabilityService: Service {
    let database: IndexDatabase
    let sweep: StabilitySweep
    let stableAgeSeconds: Int
    let logger: Logger

    func run() async throws {
        try await database.migrate()
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let stable = try await sweep.run(stableAgeSeconds: stableAgeSeconds)
                if !stable.isEmpty {
                    logger.debug("Resources became stable", metadata: ["count": "\(stable.count)"])
                }
            } catch {
                logger.warning("Stability sweep failed; retrying", metadata: ["error": "\(String(reflecting: error))"])
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }
}
