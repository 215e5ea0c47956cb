import Logging
import Model
import PostgresNIO

/// What the datashares of the edge receiver hold in the index: instances carrying each one's label, and their bytes.
public struct DatashareUsage: Sendable {
    let database: IndexDatabase
    let logger: Logger

    public init(database: IndexDatabase) {
        self.database = database
        self.logger = database.logger
    }

    /// Instances and bytes by datashare ID (absent: none yet).
    public func usage(of ids: [String]) async throws -> [String: (instances: Int, bytes: Int64)] {
        guard !ids.isEmpty else { return [:] }
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(ids)
        var usage: [String: (instances: Int, bytes: Int64)] = [:]
        for try await (label, count, bytes) in try await database.query(PostgresQuery(unsafeSQL: """
            SELECT l.label, COUNT(*), COALESCE(SUM(i.file_size), 0)::BIGINT
            FROM instances_labels l JOIN instances i ON i.pk = l.resource_pk
            WHERE l.label = ANY($1) GROUP BY l.label
            """, binds: bindings), logger: logger).decode((String, Int64, Int64).self) {
            usage[label] = (Int(count), bytes)
        }
        return usage
    }
}
