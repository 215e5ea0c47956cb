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

    /// The user metadata of a resource in the order first set (code, value); nil when the resource is unknown.
    public func values(_ level: ResourceLevel, _ id: PublicID) async throws -> [(code: Int, value: [UInt8])]? {
        let table = LevelTable.of(level).table
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(id.value)
        var found = false
        var values: [(code: Int, value: [UInt8])] = []
        for try await (code, value) in try await database.query(PostgresQuery(unsafeSQL: """
            SELECT m.code, m.value FROM \(table) r LEFT JOIN \(table)_metadata m ON m.resource_pk = r.pk
            WHERE r.public_id = $1 ORDER BY m.seq
            """, binds: bindings), logger: logger).decode((Int32?, ByteBuffer?).self) {
            found = true
            if let code, let value { values.append((Int(code), Array(buffer: value))) }
        }
        return found ? values : nil
    }

    /// Sets an entry; returns whether it replaced one, nil when the resource is unknown.
    public func set(_ level: ResourceLevel, _ id: PublicID, code: Int, value: [UInt8]) async throws -> Bool? {
        let table = LevelTable.of(level).table
        let logger = self.logger
        return try await database.withTransaction { connection -> Bool? in
            var replaced: Bool?
            for try await inserted in try await connection.query(PostgresQuery(unsafeSQL: """
                INSERT INTO \(table)_metadata (resource_pk, code, value)
                SELECT pk, $2, $3 FROM \(table) WHERE public_id = $1
                ON CONFLICT (resource_pk, code) DO UPDATE SET value = EXCLUDED.value
                RETURNING (xmax = 0)
                """, binds: Self.bindings(id, code, value)), logger: logger).decode(Bool.self) {
                replaced = !inserted
            }
            if replaced != nil {
                try await InstanceWriter.appendChanges([(.updatedMetadata, level, id)], on: connection, logger: logger)
            }
            return replaced
        }
    }

    /// Removes an entry; returns whether it was set, nil when the resource is unknown.
    public func remove(_ level: ResourceLevel, _ id: PublicID, code: Int) async throws -> Bool? {
        let table = LevelTable.of(level).table
        let logger = self.logger
        return try await database.withTransaction { connection -> Bool? in
            var exists = false
            for try await _ in try await connection.query(PostgresQuery(
                unsafeSQL: "SELECT 1 FROM \(table) WHERE public_id = $1", binds: Self.bindings(id, nil, nil)), logger: logger)
                .decode(Int32.self) {
                exists = true
            }
            guard exists else { return nil }
            var removed = false
            for try await _ in try await connection.query(PostgresQuery(unsafeSQL: """
                DELETE FROM \(table)_metadata m USING \(table) r WHERE r.pk = m.resource_pk AND r.public_id = $1 AND m.code = $2
                RETURNING 1
                """, binds: Self.bindings(id, code, nil)), logger: logger).decode(Int32.self) {
                removed = true
            }
            if removed {
                try await InstanceWriter.appendChanges([(.updatedMetadata, level, id)], on: connection, logger: logger)
            }
            return removed
        }
    }

    static func bindings(_ id: PublicID, _ code: Int?, _ value: [UInt8]?) -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 3)
        bindings.append(id.value)
        if let code { bindings.append(Int32(code)) }
        if let value { bindings.append(ByteBuffer(bytes: value)) }
        return bindings
    }
}
