import Logging
import Model
import PostgresNIO

/// Runs `/tools/find` and `/tools/lookup` in PostgreSQL: one statement joining the query level to the ancestors
/// its constraints name, matching on the expression indexes of ``FindIndex``.
public struct ResourceFinder: Sendable {
    let database: IndexDatabase
    let logger: Logger

    public init(database: IndexDatabase) {
        self.database = database
        self.logger = database.logger
    }

    /// Row keys and public IDs at `query.level` that satisfy every constraint and the labels, in Orthanc's order,
    /// paged: one round trip.
    public func matches(_ query: FindQuery) async throws -> [(key: Int64, id: PublicID)] {
        guard !query.matchesNothing else { return [] }
        var statement = FindStatement()
        let sql = statement.sql(for: query)
        var found: [(key: Int64, id: PublicID)] = []
        for try await (key, id) in try await database.query(PostgresQuery(unsafeSQL: sql, binds: statement.bindings), logger: logger)
            .decode((Int64, String).self) {
            found.append((key, PublicID(unchecked: id)))
        }
        return found
    }

    /// Resources of any level whose identifier (PatientID, StudyInstanceUID, SeriesInstanceUID, SOPInstanceUID)
    /// is `value` regardless of case, patients first (Orthanc does not look accession numbers up).
    public func lookup(_ value: String) async throws -> [(ResourceLevel, PublicID)] {
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(value)
        let sql = """
            SELECT 1::SMALLINT, public_id, pk FROM patients WHERE upper(main_tags->>'PatientID') = upper($1)
            UNION ALL SELECT 2::SMALLINT, public_id, pk FROM studies WHERE study_instance_uid IN ($1, upper($1), lower($1))
            UNION ALL SELECT 3::SMALLINT, public_id, pk FROM series WHERE series_instance_uid IN ($1, upper($1), lower($1))
            UNION ALL SELECT 4::SMALLINT, public_id, pk FROM instances WHERE sop_instance_uid IN ($1, upper($1), lower($1))
            ORDER BY 1, 3
            """
        var found: [(ResourceLevel, PublicID)] = []
        for try await (code, id, _) in try await database.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger)
            .decode((Int16, String, Int64).self) {
            if let level = ResourceLevel(code: code) { found.append((level, PublicID(unchecked: id))) }
        }
        return found
    }
}
