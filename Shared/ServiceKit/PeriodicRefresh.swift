import Logging
import ServiceLifecycle

/// The loop of a service that keeps a snapshot fresh (modalities, datashares, settings read from the index): `body`
/// runs every `interval` until a graceful shutdown or cancellation, which also cut the wait short. A failure is logged
/// once, until a run succeeds again; the previous snapshot stays in use meanwhile.
public enum PeriodicRefresh {
    public static func run(every interval: Duration, what: String, logger: Logger,
                           _ body: () async throws -> Void) async {
        var failing = false
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await body()
                failing = false
            } catch {
                if !failing { logger.warning("Could not refresh \(what)", metadata: ["error": "\(error)"]) }
                failing = true
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}
