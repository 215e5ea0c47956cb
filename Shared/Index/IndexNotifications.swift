import Logging
import Model
import PostgresNIO
import ServiceLifecycle

/// Listens for the indexer's announcements of what became of each blob (PostgreSQL LISTEN on one pooled connection)
/// and wakes the requests waiting for them, so an upload answers only once its instance can be read on any replica,
/// and says whether its own copy was the one kept.
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
                            guard let (blob, outcome) = InstanceWriter.parseAnnouncement(notification.payload) else { continue }
                            await waiters.deliver(blob.value, outcome)
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

    /// Starts listening for the blob `blob`: call it before publishing the instance, so the announcement cannot be
    /// missed.
    public func expect(_ blob: BlobID) async -> Ticket {
        await waiters.register(blob.value)
    }

    /// Waits for an expected announcement, at most `timeout`; returns what the index did with the blob, nil when
    /// nothing came in time. Always ends the ticket.
    public func wait(_ ticket: Ticket, timeout: Duration) async -> IndexedInstance.Outcome? {
        await withTaskGroup(of: IndexedInstance.Outcome?.self) { group in
            group.addTask { await self.waiters.wait(ticket) }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
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

    /// The pending waits, keyed by blob. A delivery that comes before `wait` is remembered in the ticket.
    actor Waiters {
        private var next = 0
        private var delivered: [Ticket: IndexedInstance.Outcome] = [:]
        private var pending: [String: Set<Ticket>] = [:]
        private var continuations: [Ticket: CheckedContinuation<IndexedInstance.Outcome?, Never>] = [:]

        func register(_ id: String) -> Ticket {
            next += 1
            let ticket = Ticket(id: id, number: next)
            pending[id, default: []].insert(ticket)
            return ticket
        }

        func wait(_ ticket: Ticket) async -> IndexedInstance.Outcome? {
            if let outcome = delivered[ticket] { return outcome }
            guard pending[ticket.id]?.contains(ticket) == true else { return nil }
            return await withCheckedContinuation { continuations[ticket] = $0 }
        }

        func deliver(_ id: String, _ outcome: IndexedInstance.Outcome) {
            guard let tickets = pending.removeValue(forKey: id) else { return }
            for ticket in tickets {
                if let continuation = continuations.removeValue(forKey: ticket) {
                    continuation.resume(returning: outcome)
                } else {
                    delivered[ticket] = outcome
                }
            }
        }

        /// Forgets a ticket; a pending wait on it returns nil.
        func cancel(_ ticket: Ticket) {
            pending[ticket.id]?.remove(ticket)
            if pending[ticket.id]?.isEmpty == true { pending[ticket.id] = nil }
            delivered[ticket] = nil
            continuations.removeValue(forKey: ticket)?.resume(returning: nil)
        }
    }
}
