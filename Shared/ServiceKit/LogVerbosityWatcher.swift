import Logging
import ServiceLifecycle

/// Keeps this process's ``LogVerbosity`` in step with the levels the cluster keeps (`LogLevelStore`), read every
/// `interval`, so a `PUT /tools/log-level` answered by one API replica reaches every service.
public struct LogVerbosityWatcher: Service {
    let fetch: @Sendable () async throws -> [String: String]
    let interval: Duration
    let logger: Logger

    public init(interval: Duration = .seconds(2), logger: Logger, fetch: @escaping @Sendable () async throws -> [String: String]) {
        self.fetch = fetch
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        var applied: [String: String]?
        await PeriodicRefresh.run(every: interval, what: "the log levels", logger: logger) {
            let levels = try await fetch()
            guard levels != applied else { return }
            LogVerbosity.shared.apply(levels)
            if applied != nil { logger.info("Log verbosity changed", metadata: ["level": "\(LogVerbosity.shared.level)"]) }
            applied = levels
        }
    }
}
