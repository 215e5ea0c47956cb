import Model
import PostgresNIO

/// What a PostgreSQL error means for the caller, from its SQLSTATE or the connection's state.
public enum DatabaseFailure: Sendable, Equatable {
    /// No connection could be had, or it broke (server down, restarting, too many connections): try again later;
    /// the REST API answers 503.
    case unavailable
    /// The statement ran past `statement_timeout` and the server cancelled it.
    case statementTimeout
    /// A serialization failure or a deadlock: the transaction may simply be run again.
    case conflict
    /// The server refused the data itself (a value too long, out of range or not valid in the encoding, a
    /// constraint, an index row too large): running it again fails again.
    case rejected(sqlState: String)
    /// Anything else.
    case other

    /// Classifies `error` (for a transaction, the error of its body, else of its commit or begin).
    public init(_ error: any Error) {
        if let transaction = error as? PostgresTransactionError,
           let cause = transaction.closureError ?? transaction.commitError ?? transaction.beginError {
            self.init(cause)
            return
        }
        if error is DatabaseUnavailable {
            self = .unavailable
            return
        }
        guard let error = error as? PSQLError else {
            self = .other
            return
        }
        switch error.code {
        case .server:
            let state = error.serverInfo?[.sqlState] ?? ""
            self = Self.classify(sqlState: state)
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed, .queryCancelled:
            self = .unavailable
        default:
            self = .other
        }
    }

    /// Classification by SQLSTATE (PostgreSQL's appendix A).
    public static func classify(sqlState state: String) -> DatabaseFailure {
        switch state {
        case "40001", "40P01": return .conflict
        case "57014": return .statementTimeout
        case "57P01", "57P02", "57P03", "53300", "53400": return .unavailable
        default: break
        }
        switch state.prefix(2) {
        case "08": return .unavailable
        case "22", "23", "54": return .rejected(sqlState: state)
        default: return .other
        }
    }

    /// Whether running the same work again later may succeed.
    public var isTransient: Bool {
        switch self {
        case .unavailable, .conflict, .statementTimeout: true
        case .rejected, .other: false
        }
    }

    /// The error a client sees (Orthanc's error JSON through ``TesseraError``), or nil when the error is not a
    /// database error this layer knows.
    public static func tesseraError(for error: any Error) -> TesseraError? {
        if let error = error as? TesseraError { return error }
        if let transaction = error as? PostgresTransactionError,
           let cause = transaction.closureError ?? transaction.commitError ?? transaction.beginError {
            return tesseraError(for: cause)
        }
        if error is DatabaseUnavailable {
            return TesseraError(.databaseUnavailable, details: "\(error)")
        }
        guard let psql = error as? PSQLError else { return nil }
        let message = psql.serverInfo?[.message] ?? "\(psql.code)"
        switch DatabaseFailure(psql) {
        case .unavailable:
            return TesseraError(.databaseUnavailable, details: message)
        case .statementTimeout:
            return TesseraError(.timeout, message: "The database statement timed out", details: message)
        case .conflict:
            return TesseraError(.databaseCannotSerialize, details: message)
        case .rejected(let state):
            return TesseraError(.database, message: "The index refused a value", details: "\(state): \(message)")
        case .other:
            return TesseraError(.database, details: message)
        }
    }
}

/// No pooled connection could be had in time: the database is down, restarting, or every connection is busy.
public struct DatabaseUnavailable: Error, Sendable, CustomStringConvertible {
    public var reason: String

    public init(reason: String) {
        self.reason = reason
    }

    public var description: String { "The database is not available: \(reason)" }
}
