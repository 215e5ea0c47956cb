import Logging
import Model
import PostgresNIO
import ServiceLifecycle

/// Listens for the indexer's announcements of indexed instances (PostgreSQL LISTEN on one pooled connection) and
/// wakes the requests waiting for them, so an upload answers only once its instance can be read on any replica.
/// Put it in the service group after the database client; it reconnects after a lost connection.
public final class IndexNotifications: Service, Sendable {
    private let client: PostgresClient
    private let logger: Logger
    private let waiters = Waiters()

    public init(database: IndexDatabase) {
        self.client = database.client
        self.logger = database.logger
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await client.withConnection { connection in
                    try await connection.listen(on: InstanceWriter.notificationChannel) { notifications in
                        for try await notification in notifications.cancelOnGracefulShutdown() {
                            await waiters.deliver(notification.payload)
                        }
                    }
                }
            } catch {
                if Task.isCancelled || Task.isShuttingDownGracefully { break }
                logger.warning("Lost the index notification channel; reconnecting", metadata: ["error": "\(String(reflecting: error))"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// Starts listening for `id`: call it before publishing the instance, so the announcement cannot be missed.
    public func expect(_ id: PublicID) async -> Ticket {
        await waiters.register(id.value)
    }

    /// Waits for an expected announcement, at most `timeout`; returns whether it came. Always ends the ticket.
    public func wait(_ ticket: Ticket, timeout: Duration) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask { await self.waiters.wait(ticket) }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            await waiters.cancel(ticket)
            group.cancelAll()
            return first
        }
    }

    /// Ends a ticket that will not be waited for (the store failed).
    public func forget(_ ticket: Ticket) async {
        await waiters.cancel(ticket)
    }
}

extension IndexNotifications {
    /// A registered wait.
    public struct Ticket: Hashable, Sendable {
        let id: String
        let number: Int
    }

    /// The pending waits, keyed by instance ID. A delivery that comes before `wait` is remembered in the ticket.
    actor Waiters {
        private var next = 0
        private var delivered: Set<Ticket> = []
        private var pending: [String: Set<Ticket>] = [:]
        private var continuations: [Ticket: CheckedContinuation<Bool, Never>] = [:]

        func register(_ id: String) -> Ticket {
            next += 1
            let ticket = Ticket(id: id, number: next)
            pending[id, default: []].insert(ticket)
            return ticket
        }

        func wait(_ ticket: Ticket) async -> Bool {
            if delivered.contains(ticket) { return true }
            guard pending[ticket.id]?.contains(ticket) == true else { return false }
            return await withCheckedContinuation { continuations[ticket] = $0 }
        }

        func deliver(_ id: String) {
            guard let tickets = pending.removeValue(forKey: id) else { return }
            for ticket in tickets {
                if let continuation = continuations.removeValue(forKey: ticket) {
                    continuation.resume(returning: true)
                } else {
                    delivered.insert(ticket)
                }
            }
        }

        /// Forgets a ticket; a pending wait on it returns false.
        func cancel(_ ticket: Ticket) {
            pending[ticket.id]?.remove(ticket)
            if pending[ticket.id]?.isEmpty == true { pending[ticket.id] = nil }
            delivered.remove(ticket)
            continuations.removeValue(forKey: ticket)?.resume(returning: false)
        }
    }
}
