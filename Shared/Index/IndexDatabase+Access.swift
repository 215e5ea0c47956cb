import Logging
import Model
import PostgresNIO
import Synchronization

extension IndexDatabase {
    /// Runs `body` with a pooled connection. Waits at most ``acquireTimeout`` for one: when the database is down
    /// (or every connection stays busy) the caller gets ``DatabaseUnavailable`` quickly instead of queueing behind
    /// the pool's own minute-long retries.
    public func withConnection<Result>(_ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        let lease = try await lease()
        defer { lease.release() }
        return try await body(lease.connection)
    }

    /// Runs `body` in a transaction on a pooled connection (see ``withConnection(_:)``). A serialization failure or
    /// a deadlock rolls back and runs `body` again, a few times, after a short random pause.
    public func withTransaction<Result>(_ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        var attempt = 0
        while true {
            attempt += 1
            do {
                do {
                    return try await withConnection { connection in
                        try await connection.withTransaction(logger: logger) { transaction in try await body(transaction) }
                    }
                } catch let failure as PostgresTransactionError {
                    // The error of the body itself (or of the commit), as callers expect to catch it.
                    if failure.rollbackError == nil, let cause = failure.closureError ?? failure.commitError ?? failure.beginError {
                        throw cause
                    }
                    throw failure
                }
            } catch {
                guard DatabaseFailure(error) == .conflict, attempt < 5 else { throw error }
                logger.debug("Transaction conflict; running it again", metadata: ["attempt": "\(attempt)"])
                try await Task.sleep(for: .milliseconds(Int.random(in: 5...50) * attempt))
            }
        }
    }

    /// Runs one statement and returns every row, read while the connection is held (iterate it, or `decode` it as a
    /// `PostgresRowSequence`).
    @discardableResult
    public func query(_ query: PostgresQuery, logger: Logger? = nil) async throws -> CollectedRows {
        try await withConnection { connection in
            var rows: [PostgresRow] = []
            for try await row in try await connection.query(query, logger: logger ?? self.logger) {
                rows.append(row)
            }
            return CollectedRows(rows: rows)
        }
    }

    /// Runs a prepared statement (prepared once per connection) and returns its decoded rows.
    public func execute<Statement: PostgresPreparedStatement>(_ statement: Statement, logger: Logger? = nil) async throws
        -> [Statement.Row] where Statement.Row: Sendable {
        try await withConnection { connection in
            var rows: [Statement.Row] = []
            for try await row in try await connection.execute(statement, logger: logger ?? self.logger) {
                rows.append(row)
            }
            return rows
        }
    }

    private func lease() async throws -> ConnectionLease {
        let lease = ConnectionLease()
        let client = self.client
        let holder = Task {
            do {
                try await client.withConnection { connection in
                    guard lease.deliver(connection) else { return }
                    await lease.waitForRelease()
                }
            } catch {
                lease.fail(error)
            }
        }
        let timeout = acquireTimeout
        let timer = Task {
            try await Task.sleep(for: timeout)
            lease.fail(DatabaseUnavailable(reason: "no connection within \(timeout)"))
        }
        defer { timer.cancel() }
        do {
            try await withTaskCancellationHandler {
                try await lease.waitForConnection()
            } onCancel: {
                lease.fail(CancellationError())
            }
        } catch {
            holder.cancel()
            if error is CancellationError || error is DatabaseUnavailable { throw error }
            throw DatabaseUnavailable(reason: "\(error)")
        }
        return lease
    }
}

/// A pooled connection held by a task of its own for a caller that waits for it with a deadline.
final class ConnectionLease: Sendable {
    private enum State {
        case waiting(CheckedContinuation<Void, any Error>?)
        case leased(PostgresConnection, CheckedContinuation<Void, Never>?)
        case failed(any Error)
        case released
    }

    private let state = Mutex<State>(.waiting(nil))

    /// The leased connection; only after ``waitForConnection()`` returned.
    var connection: PostgresConnection {
        state.withLock { state in
            guard case .leased(let connection, _) = state else { preconditionFailure("no connection leased") }
            return connection
        }
    }

    /// Hands the connection over; false when the caller gave up (the holder then returns it at once).
    func deliver(_ connection: PostgresConnection) -> Bool {
        let waiter: CheckedContinuation<Void, any Error>?? = state.withLock { state in
            guard case .waiting(let waiter) = state else { return .none }
            state = .leased(connection, nil)
            return .some(waiter)
        }
        guard case .some(let continuation) = waiter else { return false }
        continuation?.resume()
        return true
    }

    /// Ends the wait with `error` unless a connection was delivered already.
    func fail(_ error: any Error) {
        let waiter: CheckedContinuation<Void, any Error>?? = state.withLock { state in
            guard case .waiting(let waiter) = state else { return .none }
            state = .failed(error)
            return .some(waiter)
        }
        if case .some(let continuation) = waiter { continuation?.resume(throwing: error) }
    }

    func waitForConnection() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let outcome: Result<Void, any Error>? = state.withLock { state in
                switch state {
                case .waiting:
                    state = .waiting(continuation)
                    return nil
                case .leased: return .success(())
                case .failed(let error): return .failure(error)
                case .released: return .failure(CancellationError())
                }
            }
            if let outcome { continuation.resume(with: outcome) }
        }
    }

    /// Parks the holding task until ``release()``.
    func waitForRelease() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done: Bool = state.withLock { state in
                guard case .leased(let connection, nil) = state else { return true }
                state = .leased(connection, continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    /// Returns the connection to the pool.
    func release() {
        let holder: CheckedContinuation<Void, Never>? = state.withLock { state in
            defer { state = .released }
            if case .leased(_, let holder) = state { return holder }
            return nil
        }
        holder?.resume()
    }
}

/// Rows read in full from a statement; an `AsyncSequence` so that PostgresNIO's `decode` applies to it, and a plain
/// `Sequence` too.
public struct CollectedRows: AsyncSequence, Sequence, Sendable {
    public typealias Element = PostgresRow
    public let rows: [PostgresRow]

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: IndexingIterator<[PostgresRow]>
        public mutating func next() async -> PostgresRow? { base.next() }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: rows.makeIterator()) }

    public func makeIterator() -> IndexingIterator<[PostgresRow]> { rows.makeIterator() }
}
