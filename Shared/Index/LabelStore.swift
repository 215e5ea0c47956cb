import Logging
import Model
import PostgresNIO

/// Labels of resources (Orthanc 1.12): written by the REST API straight to the index.
public struct LabelStore: Sendable {
    let database: IndexDatabase
    let logger: Logger

    public init(database: IndexDatabase) {
        self.database = database
        self.logger = database.logger
    }

    /// Adds a label; false when the resource is not indexed.
    public func add(_ label: String, to id: PublicID, at level: ResourceLevel) async throws -> Bool {
        let table = LevelTable.of(level).table
        let added = try await changed("""
            INSERT INTO \(table)_labels (resource_pk, label) SELECT pk, $2 FROM \(table) WHERE public_id = $1
            ON CONFLICT DO NOTHING RETURNING 1
            """, id, label)
        if added { return true }
        return try await resourceExists(id, at: level)
    }

    /// Removes a label (absent labels are fine); false when the resource is not indexed.
    public func remove(_ label: String, from id: PublicID, at level: ResourceLevel) async throws -> Bool {
        let table = LevelTable.of(level).table
        let removed = try await changed("""
            DELETE FROM \(table)_labels l USING \(table) r WHERE r.pk = l.resource_pk AND r.public_id = $1 AND l.label = $2
            RETURNING 1
            """, id, label)
        if removed { return true }
        return try await resourceExists(id, at: level)
    }

    /// Every label used by any resource, sorted.
    public func all() async throws -> [String] {
        let sql = ResourceLevel.allCases.map { "SELECT label FROM \(LevelTable.of($0).table)_labels" }.joined(separator: " UNION ")
        var labels: [String] = []
        for try await label in try await database.query(PostgresQuery(unsafeSQL: sql + " ORDER BY 1"), logger: logger).decode(String.self) {
            labels.append(label)
        }
        return labels
    }

    private func resourceExists(_ id: PublicID, at level: ResourceLevel) async throws -> Bool {
        try await changed("SELECT 1 FROM \(LevelTable.of(level).table) WHERE public_id = $1", id, nil)
    }

    private func changed(_ sql: String, _ id: PublicID, _ label: String?) async throws -> Bool {
        var bindings = PostgresBindings(capacity: 2)
        bindings.append(id.value)
        if let label { bindings.append(label) }
        for try await _ in try await database.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger).decode(Int32.self) {
            return true
        }
        return false
    }
}
