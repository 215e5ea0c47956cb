import Logging
import Model
import PostgresNIO

/// Orthanc's log verbosity (`default`, `verbose`, `trace`) set through the REST API, kept in PostgreSQL so that every
/// process of the cluster applies it: the overall level under the empty category, and one per Orthanc log category.
public struct LogLevelStore: Sendable {
    let database: IndexDatabase
    let logger: Logger

    public init(database: IndexDatabase) {
        self.database = database
        self.logger = database.logger
    }

    /// The levels set, by category ("" for the overall level); absent categories are `default`.
    public func current() async throws -> [String: String] {
        var levels: [String: String] = [:]
        for try await (category, verbosity) in try await database.query("SELECT category, verbosity FROM log_levels", logger: logger)
            .decode((String, String).self) {
            levels[category] = verbosity
        }
        return levels
    }

    /// Sets one category's verbosity; the overall level (`category` nil) sets every category too, as Orthanc's
    /// `PUT /tools/log-level` does.
    public func set(_ verbosity: String, category: String?, categories: [String]) async throws {
        let names = category.map { [$0] } ?? ([""] + categories)
        var binds = PostgresBindings()
        binds.append(names)
        binds.append(verbosity)
        try await database.query(PostgresQuery(unsafeSQL: """
            INSERT INTO log_levels (category, verbosity) SELECT unnest($1::text[]), $2
            ON CONFLICT (category) DO UPDATE SET verbosity = EXCLUDED.verbosity, updated_at = now()
            """, binds: binds), logger: logger)
    }
}
