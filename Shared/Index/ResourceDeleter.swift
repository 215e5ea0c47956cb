import Logging
import Model
import PostgresNIO

/// Deletes a resource with everything below it, then every ancestor left without children, in one transaction; the
/// ancestors that remain get a new `LastUpdate` (as Orthanc 1.12.1+).
/// The change rows of deleted resources go with them (as Orthanc's cascade does); the instances' blobs are queued
/// in `pending_blob_deletions` and removed by ``BlobReaper`` after the commit; each deleted instance leaves a tombstone
/// (see ``InstanceWriter``) so that a replayed event cannot bring it back.
public struct ResourceDeleter: Sendable {
    let database: IndexDatabase
    let logger: Logger

    public init(database: IndexDatabase) {
        self.database = database
        self.logger = database.logger
    }

    /// What a deletion left: the closest ancestor still indexed (nil when the whole patient went).
    public struct Outcome: Sendable {
        public let remainingAncestor: (level: ResourceLevel, id: PublicID)?
    }

    /// Deletes the resource; nil when it is not indexed.
    public func delete(_ level: ResourceLevel, _ id: PublicID) async throws -> Outcome? {
        let logger = self.logger
        return try await database.withTransaction { connection -> Outcome? in
            // Ancestors are locked top-down, the order the indexer takes them in, so the two cannot deadlock.
            let chain = try await Self.ancestors(of: level, id, on: connection, logger: logger)
            guard let own = chain.last else { return nil }
            for (ancestorLevel, key) in chain {
                try await connection.query(PostgresQuery(
                    unsafeSQL: "SELECT pk FROM \(LevelTable.of(ancestorLevel).table) WHERE pk = \(key) FOR UPDATE"), logger: logger)
            }
            var bindings = PostgresBindings(capacity: 1)
            bindings.append(id.value)
            // Tombstones: an event of these copies (or of older ones) that replays later must not index them again.
            try await connection.query(PostgresQuery(unsafeSQL: """
                INSERT INTO instance_tombstones (public_id, file_uuid, ingest_ms)
                SELECT public_id, file_uuid, ingest_ms FROM instances
                WHERE pk IN (\(LevelTable.relatedKeysSQL(anchor: level, target: .instance)))
                ON CONFLICT (public_id, file_uuid) DO UPDATE SET deleted_at = now()
                """, binds: bindings), logger: logger)
            try await connection.query(PostgresQuery(unsafeSQL: """
                INSERT INTO pending_blob_deletions (file_uuid)
                SELECT file_uuid FROM instances WHERE pk IN (\(LevelTable.relatedKeysSQL(anchor: level, target: .instance)))
                ON CONFLICT DO NOTHING
                """, binds: bindings), logger: logger)
            for target in ResourceLevel.allCases where target.depth >= level.depth {
                let table = LevelTable.of(target).table
                try await connection.query(PostgresQuery(unsafeSQL: """
                    INSERT INTO pending_blob_deletions (file_uuid)
                    SELECT uuid FROM \(table)_attachments WHERE resource_pk IN (\(LevelTable.relatedKeysSQL(anchor: level, target: target)))
                    ON CONFLICT DO NOTHING
                    """, binds: bindings), logger: logger)
                try await connection.query(PostgresQuery(unsafeSQL: """
                    DELETE FROM changes WHERE public_id IN (SELECT public_id FROM \(table)
                        WHERE pk IN (\(LevelTable.relatedKeysSQL(anchor: level, target: target))))
                    """, binds: bindings), logger: logger)
            }
            // Rows below go by ON DELETE CASCADE (labels included).
            try await connection.query(PostgresQuery(
                unsafeSQL: "DELETE FROM \(LevelTable.of(own.level).table) WHERE pk = \(own.key)"), logger: logger)
            for (ancestorLevel, key) in chain.dropLast().reversed() {
                guard let child = ancestorLevel.child, let column = LevelTable.of(child).parentColumn else { break }
                let table = LevelTable.of(ancestorLevel).table
                var removed: String?
                // The ancestor's own attachments are queued in the same statement (one snapshot) as its deletion.
                for try await publicID in try await connection.query(PostgresQuery(unsafeSQL: """
                    WITH gone AS (
                        DELETE FROM \(table) WHERE pk = \(key)
                            AND NOT EXISTS (SELECT 1 FROM \(LevelTable.of(child).table) WHERE \(column) = \(key))
                        RETURNING pk, public_id),
                    queued AS (
                        INSERT INTO pending_blob_deletions (file_uuid)
                        SELECT a.uuid FROM \(table)_attachments a JOIN gone g ON a.resource_pk = g.pk
                        ON CONFLICT DO NOTHING)
                    SELECT public_id FROM gone
                    """), logger: logger).decode(String.self) {
                    removed = publicID
                }
                guard let removed else {
                    // As Orthanc 1.12.1+, the ancestors that remain were updated by the deletion.
                    for (level, remainingKey) in chain where level.depth <= ancestorLevel.depth {
                        try await connection.query(PostgresQuery(unsafeSQL:
                            "UPDATE \(LevelTable.of(level).table) SET last_update = now() WHERE pk = \(remainingKey)"), logger: logger)
                    }
                    let remaining = try await Self.publicID(of: key, at: ancestorLevel, on: connection, logger: logger)
                    return Outcome(remainingAncestor: remaining.map { (ancestorLevel, $0) })
                }
                var removedBindings = PostgresBindings(capacity: 1)
                removedBindings.append(removed)
                try await connection.query(PostgresQuery(unsafeSQL: "DELETE FROM changes WHERE public_id = $1",
                                                         binds: removedBindings), logger: logger)
            }
            return Outcome(remainingAncestor: nil)
        }
    }

    /// Row keys from the patient down to the resource itself (empty when it is not indexed).
    private static func ancestors(of level: ResourceLevel, _ id: PublicID, on connection: PostgresConnection,
                                  logger: Logger) async throws -> [(level: ResourceLevel, key: Int64)] {
        let levels = ResourceLevel.allCases
        var sql = "SELECT " + (0...level.depth).map { "t\($0).pk" }.joined(separator: ", ")
            + " FROM \(LevelTable.of(level).table) t\(level.depth)"
        var depth = level.depth
        while depth > 0 {
            let child = LevelTable.of(levels[depth])
            sql += " JOIN \(LevelTable.of(levels[depth - 1]).table) t\(depth - 1) ON t\(depth - 1).pk = t\(depth).\(child.parentColumn ?? "pk")"
            depth -= 1
        }
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(id.value)
        for try await row in try await connection.query(PostgresQuery(unsafeSQL: sql + " WHERE t\(level.depth).public_id = $1",
                                                                      binds: bindings), logger: logger) {
            var chain: [(level: ResourceLevel, key: Int64)] = []
            for (index, cell) in row.enumerated() {
                chain.append((levels[index], try cell.decode(Int64.self)))
            }
            return chain
        }
        return []
    }

    private static func publicID(of key: Int64, at level: ResourceLevel, on connection: PostgresConnection,
                                 logger: Logger) async throws -> PublicID? {
        for try await id in try await connection.query(PostgresQuery(
            unsafeSQL: "SELECT public_id FROM \(LevelTable.of(level).table) WHERE pk = \(key)"), logger: logger).decode(String.self) {
            return PublicID(unchecked: id)
        }
        return nil
    }
}
