import Logging
import ServiceLifecycle

/// Keeps a process-wide setting in step with the value the cluster keeps (read every `interval`), so a change made
/// through one API replica reaches every service: `DefaultEncoding` (`PUT /tools/default-encoding`), for instance.
public struct SettingWatcher<Value: Equatable & Sendable>: Service {
    let what: String
    let interval: Duration
    let logger: Logger
    let fetch: @Sendable () async throws -> Value
    let apply: @Sendable (Value) -> Void

    public init(_ what: String, interval: Duration = .seconds(2), logger: Logger,
                fetch: @escaping @Sendable () async throws -> Value, apply: @escaping @Sendable (Value) -> Void) {
        self.what = what
        self.interval = interval
        self.logger = logger
        self.fetch = fetch
        self.apply = apply
    }

    public func run() async throws {
        var applied: Value?
        await PeriodicRefresh.run(every: interval, what: what, logger: logger) {
            let value = try await fetch()
            guard value != applied else { return }
            apply(value)
            if applied != nil { logger.info("Setting changed", metadata: ["setting": "\(what)", "value": "\(value)"]) }
            applied = value
        }
    }
}
