import Foundation
import Logging
import Model
import PostgresNIO

/// Reads and clears Orthanc's change log (`/changes`).
public struct ChangeLog: Sendable {
    let database: IndexDatabase
    let logger: Logger

    /// Transaction-level advisory lock that every writer of change rows takes just before inserting them, so
    /// that `seq` values become visible in increasing order ("CHANGELOG" in ASCII, truncated).
    static let lockKey: Int64 = 0x4348_414E_4745_4C

    public init(database: IndexDatabase) {
        self.database = database
        self.logger = database.logger
    }

    /// Changes with `seq > since`, oldest first, at most `limit`.
    public func list(since: Int64, limit: Int) async throws -> [ChangeRecord] {
        try await records("""
            SELECT seq, change_type, resource_level, public_id, changed_at FROM changes
            WHERE seq > \(since) ORDER BY seq LIMIT \(Int64(limit))
            """)
    }

    /// The newest change, if any.
    public func last() async throws -> ChangeRecord? {
        try await records("SELECT seq, change_type, resource_level, public_id, changed_at FROM changes ORDER BY seq DESC LIMIT 1").first
    }

    /// The last sequence number ever given (it survives `clear()` and deletions, as Orthanc's does).
    public func lastAllocated() async throws -> Int64 {
        for try await (value, called) in try await database.query(
            "SELECT last_value, is_called FROM changes_seq_seq", logger: logger).decode((Int64, Bool).self) {
            return called ? value : 0
        }
        return 0
    }

    /// The highest sequence number (0 when the log is empty).
    public func lastSeq() async throws -> Int64 {
        for try await seq in try await database.query("SELECT COALESCE(MAX(seq), 0) FROM changes", logger: logger).decode(Int64.self) {
            return seq
        }
        return 0
    }

    /// Empties the log (`DELETE /changes`); sequence numbers keep increasing afterwards, as Orthanc's do.
    public func clear() async throws {
        try await database.query("DELETE FROM changes", logger: logger)
    }

    private func records(_ query: PostgresQuery) async throws -> [ChangeRecord] {
        var records: [ChangeRecord] = []
        for try await (seq, type, level, id, date) in try await database.query(query, logger: logger)
            .decode((Int64, Int16, Int16, String, Date).self) {
            guard let changeType = ChangeType(rawValue: Int(type)), let resourceLevel = ResourceLevel(code: level) else { continue }
            records.append(ChangeRecord(seq: seq, type: changeType, level: resourceLevel, publicID: PublicID(unchecked: id), date: date))
        }
        return records
    }
}
