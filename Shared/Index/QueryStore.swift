import Logging
import Model
import PostgresNIO

/// The queries of `/modalities/{id}/query` and their answers, in PostgreSQL so that any API replica answers
/// `/queries/{id}`. The worker that ran the C-FIND writes them; the newest `QueryRetrieveSize` are kept.
public struct QueryStore: Sendable {
    let database: IndexDatabase
    let logger: Logger

    public init(database: IndexDatabase) {
        self.database = database
        self.logger = database.logger
    }

    /// Saves a query with its answers (each a DICOM file) and drops the oldest past `keep`.
    public func save(_ record: QueryRecord, answers: [[UInt8]], keep: Int) async throws {
        let query = JSONValue.object(record.query.mapValues(JSONValue.string)).compactText
        try await database.withTransaction { connection in
            try await connection.query("""
                INSERT INTO queries (id, modality, remote, local_aet, timeout, level, query)
                VALUES (\(record.id), \(record.modality), \(record.remote.compactText)::jsonb, \(record.localAet),
                        \(Int32(clamping: record.timeoutSeconds)), \(record.level), \(query)::jsonb)
                """, logger: logger)
            for (position, answer) in answers.enumerated() {
                try await connection.query("""
                    INSERT INTO query_answers (query_id, position, dataset)
                    VALUES (\(record.id), \(Int32(position)), \(ByteBuffer(bytes: answer)))
                    """, logger: logger)
            }
            try await connection.query("""
                DELETE FROM queries WHERE id NOT IN (SELECT id FROM queries ORDER BY seq DESC LIMIT \(Int64(max(1, keep))))
                """, logger: logger)
        }
    }

    /// Removes a query and its answers.
    public func delete(_ id: String) async throws {
        try await database.query("DELETE FROM queries WHERE id = \(id)", logger: logger)
    }

    /// Every query, oldest first.
    public func list() async throws -> [String] {
        var ids: [String] = []
        for try await id in try await database.query("SELECT id FROM queries ORDER BY seq", logger: logger).decode(String.self) {
            ids.append(id)
        }
        return ids
    }

    /// One query, with its number of answers.
    public func query(_ id: String) async throws -> QueryRecord? {
        for try await (modality, remote, localAet, timeout, level, query, count) in try await database.query("""
            SELECT modality, remote::text, local_aet, timeout, level, query::text,
                   (SELECT COUNT(*) FROM query_answers WHERE query_id = q.id)
            FROM queries q WHERE id = \(id)
            """, logger: logger).decode((String, String, String, Int32, String, String, Int64).self) {
            var pairs: [String: String] = [:]
            if case .object(let members)? = try? JSONValue.parse(text: query) {
                for (tag, value) in members { pairs[tag] = value.stringValue ?? "" }
            }
            return QueryRecord(id: id, modality: modality, remote: (try? JSONValue.parse(text: remote)) ?? .null,
                               localAet: localAet, timeoutSeconds: Int(timeout), level: level, query: pairs,
                               answerCount: Int(count))
        }
        return nil
    }

    /// The answers of a query, in order (all, or the one at `position`).
    public func answers(_ id: String, position: Int? = nil) async throws -> [[UInt8]] {
        var answers: [[UInt8]] = []
        let rows: CollectedRows
        if let position {
            rows = try await database.query("""
                SELECT dataset FROM query_answers WHERE query_id = \(id) AND position = \(Int32(clamping: position))
                """, logger: logger)
        } else {
            rows = try await database.query(
                "SELECT dataset FROM query_answers WHERE query_id = \(id) ORDER BY position", logger: logger)
        }
        for try await buffer in rows.decode(ByteBuffer.self) {
            answers.append(Array(buffer: buffer))
        }
        return answers
    }
}
