import Logging
import Model
import PostgresNIO

/// User metadata of resources (codes 1024-65535), written by the REST API; each change logs `UpdatedMetadata`.
/// Values are the exact bytes a client sent (Orthanc keeps NUL bytes and invalid UTF-8 as they are).
public struct MetadataStore: Sendable {
    let database: IndexDatabase
    let logger: Logger

    public init(database: IndexDatabase) {
        self.database = database
        self.logger = database.logger
    }

    /// One stored entry: its code, the exact bytes set, and its revision (0 when created, +1 on each replacement).
    public struct Entry: Sendable, Hashable {
        public var code: Int
        public var value: [UInt8]
        public var revision: Int64

        /// Orthanc's ETag of the entry.
        public var entityTag: EntityTag { EntityTag(revision: revision, md5: MD5Digest.hex(value)) }
    }

    /// The metadata recorded for a resource in the order first set; nil when the resource is unknown.
    public func values(_ level: ResourceLevel, _ id: PublicID) async throws -> [Entry]? {
        let table = LevelTable.of(level).table
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(id.value)
        var found = false
        var values: [Entry] = []
        for try await (code, value, revision) in try await database.query(PostgresQuery(unsafeSQL: """
            SELECT m.code, m.value, m.revision FROM \(table) r LEFT JOIN \(table)_metadata m ON m.resource_pk = r.pk
            WHERE r.public_id = $1 ORDER BY m.seq
            """, binds: bindings), logger: logger).decode((Int32?, ByteBuffer?, Int64?).self) {
            found = true
            if let code, let value, let revision { values.append(Entry(code: Int(code), value: Array(buffer: value), revision: revision)) }
        }
        return found ? values : nil
    }

    /// Sets an entry if `check` allows replacing what is stored (else throws Orthanc's revision error); returns the
    /// entry's new revision, nil when the resource is unknown. The resource row is locked while the stored revision is
    /// compared, so concurrent writers of one resource take turns.
    public func set(_ level: ResourceLevel, _ id: PublicID, code: Int, value: [UInt8],
                    check: RevisionCheck = .none) async throws -> Int64? {
        let table = LevelTable.of(level).table
        let logger = self.logger
        return try await database.withTransaction { connection -> Int64? in
            guard let (key, stored) = try await Self.locked(table, id, code: code, on: connection, logger: logger) else { return nil }
            try check.verify(stored?.entityTag)
            let revision = stored.map { $0.revision + 1 } ?? 0
            var bindings = PostgresBindings(capacity: 4)
            bindings.append(key)
            bindings.append(Int32(code))
            bindings.append(ByteBuffer(bytes: value))
            bindings.append(revision)
            try await connection.query(PostgresQuery(unsafeSQL: """
                INSERT INTO \(table)_metadata (resource_pk, code, value, revision) VALUES ($1, $2, $3, $4)
                ON CONFLICT (resource_pk, code) DO UPDATE SET value = EXCLUDED.value, revision = EXCLUDED.revision
                """, binds: bindings), logger: logger)
            try await InstanceWriter.appendChanges([(.updatedMetadata, level, id)], on: connection, logger: logger)
            return revision
        }
    }

    /// Removes an entry if `check` allows it (else throws Orthanc's revision error); returns whether it was set, nil
    /// when the resource is unknown.
    public func remove(_ level: ResourceLevel, _ id: PublicID, code: Int, check: RevisionCheck = .none) async throws -> Bool? {
        let table = LevelTable.of(level).table
        let logger = self.logger
        return try await database.withTransaction { connection -> Bool? in
            guard let (key, stored) = try await Self.locked(table, id, code: code, on: connection, logger: logger) else { return nil }
            guard let stored else { return false }
            try check.verify(stored.entityTag)
            var bindings = PostgresBindings(capacity: 2)
            bindings.append(key)
            bindings.append(Int32(code))
            try await connection.query(PostgresQuery(
                unsafeSQL: "DELETE FROM \(table)_metadata WHERE resource_pk = $1 AND code = $2", binds: bindings), logger: logger)
            try await InstanceWriter.appendChanges([(.updatedMetadata, level, id)], on: connection, logger: logger)
            return true
        }
    }

    /// The resource's row key, locked against other writers (not against new children: `NO KEY`), and its entry of
    /// `code`; nil when the resource is unknown.
    private static func locked(_ table: String, _ id: PublicID, code: Int, on connection: PostgresConnection,
                               logger: Logger) async throws -> (Int64, Entry?)? {
        var result: (Int64, Entry?)?
        for try await (key, value, revision) in try await connection.query(PostgresQuery(unsafeSQL: """
            SELECT r.pk, m.value, m.revision FROM \(table) r LEFT JOIN \(table)_metadata m ON m.resource_pk = r.pk AND m.code = $2
            WHERE r.public_id = $1 FOR NO KEY UPDATE OF r
            """, binds: bindings(id, code, nil)), logger: logger).decode((Int64, ByteBuffer?, Int64?).self) {
            result = (key, value.map { Entry(code: code, value: Array(buffer: $0), revision: revision ?? 0) })
        }
        return result
    }

    static func bindings(_ id: PublicID, _ code: Int?, _ value: [UInt8]?) -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 3)
        bindings.append(id.value)
        if let code { bindings.append(Int32(code)) }
        if let value { bindings.append(ByteBuffer(bytes: value)) }
        return bindings
    }
}
