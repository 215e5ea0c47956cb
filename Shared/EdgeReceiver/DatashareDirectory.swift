import Index
import Jobs
import Logging
import Model
import ServiceKit
import ServiceLifecycle
import Synchronization

/// The datashares as the gateway's associations see them: a snapshot of the registry (configuration file and
/// database) and of what each holds in the index, refreshed in the background; and the bytes this gateway accepted
/// since, so that a datashare's disk budget holds between refreshes. Nothing here waits for the database on a
/// C-STORE's path.
public final class DatashareDirectory: Service, Sendable {
    private let registry: DatashareRegistry
    private let usage: DatashareUsage
    private let defaultBudget: Int64
    private let interval: Duration
    private let logger: Logger
    private let state: Mutex<State>

    struct State {
        var shares: [String: DatashareConfiguration]
        /// Bytes in the index by datashare, as last read.
        var indexed: [String: Int64] = [:]
        /// Bytes accepted here and when, until the index surely counts them.
        var accepted: [String: [(at: ContinuousClock.Instant, bytes: Int64)]] = [:]
    }

    /// How long accepted bytes are counted on top of the index (they are indexed within seconds; counting them twice
    /// meanwhile errs on the safe side of the budget).
    static let indexingAllowance = Duration.seconds(30)

    public init(registry: DatashareRegistry, usage: DatashareUsage, configured: [String: DatashareConfiguration],
                defaultBudgetMB: Int, interval: Duration = .seconds(2), logger: Logger) {
        self.registry = registry
        self.usage = usage
        self.defaultBudget = Int64(defaultBudgetMB) << 20
        self.interval = interval
        self.logger = logger
        self.state = Mutex(State(shares: configured))
    }

    /// The datashare an association's AE titles select (``DatashareSelector``), or nil.
    public func select(calledAET: String, callingAET: String) -> String? {
        let shares = state.withLock { $0.shares }
        return DatashareSelector(shares: shares).select(calledAET: calledAET, callingAET: callingAET)
    }

    /// The disk budget of a datashare in bytes.
    public func budget(of id: String) -> Int64 {
        state.withLock { $0.shares[id]?.diskBudgetMB.map { Int64($0) << 20 } } ?? defaultBudget
    }

    /// Takes `bytes` of a datashare's budget for an instance being stored; false (nothing taken) when they do not fit
    /// or the datashare is gone.
    public func reserve(_ id: String, bytes: Int64) -> Bool {
        let budget = budget(of: id)
        let now = ContinuousClock.now
        return state.withLock { state in
            guard state.shares[id] != nil else { return false }
            let recent = state.accepted[id, default: []].filter { now - $0.at < Self.indexingAllowance }
            let held = (state.indexed[id] ?? 0) + recent.reduce(0) { $0 + $1.bytes }
            guard held + bytes <= budget else {
                state.accepted[id] = recent
                return false
            }
            state.accepted[id] = recent + [(now, bytes)]
            return true
        }
    }

    /// Gives back a reservation whose instance was not stored.
    public func release(_ id: String, bytes: Int64) {
        state.withLock { state in
            guard var entries = state.accepted[id], let index = entries.lastIndex(where: { $0.bytes == bytes }) else { return }
            entries.remove(at: index)
            state.accepted[id] = entries
        }
    }

    /// Reads the registry and the index now.
    public func refresh() async throws {
        let shares = try await registry.all()
        let used = try await usage.usage(of: Array(shares.keys))
        state.withLock { state in
            state.shares = shares
            state.indexed = used.mapValues(\.bytes)
        }
    }

    public func run() async throws {
        await PeriodicRefresh.run(every: interval, what: "the datashares", logger: logger) { try await refresh() }
    }
}
