import Logging
import Model
import PostgresNIO

/// The modalities or peers declared through the REST API (`PUT`/`DELETE /modalities/{id}`, `/peers/{id}`), in
/// PostgreSQL so that every API and worker replica sees the same list. ``EndpointRegistry`` merges them with the
/// configuration file's.
public struct EndpointStore<Endpoint: RemoteEndpoint>: Sendable {
    let database: IndexDatabase
    let logger: Logger

    public init(database: IndexDatabase) {
        self.database = database
        self.logger = database.logger
    }

    private var table: String { Endpoint.collection }

    /// Every row: an endpoint, or nil for a configured one that was deleted.
    public func all() async throws -> [String: Endpoint?] {
        var rows: [String: Endpoint?] = [:]
        for try await (name, text) in try await database.query(
            PostgresQuery(unsafeSQL: "SELECT name, configuration::text FROM \(table)"), logger: logger).decode((String, String?).self) {
            if let text {
                // A row written by this code always parses; one that does not is skipped rather than failing every call.
                guard let json = try? JSONValue.parse(text: text), let endpoint = try? Endpoint(json: json) else { continue }
                rows[name] = .some(endpoint)
            } else {
                rows[name] = .some(nil)
            }
        }
        return rows
    }

    /// Adds or replaces an endpoint.
    public func put(_ name: String, _ endpoint: Endpoint) async throws {
        var binds = PostgresBindings()
        binds.append(name)
        binds.append(endpoint.storedJSON.compactText)
        try await database.query(PostgresQuery(unsafeSQL: """
            INSERT INTO \(table) (name, configuration) VALUES ($1, $2::jsonb)
            ON CONFLICT (name) DO UPDATE SET configuration = EXCLUDED.configuration, updated_at = now()
            """, binds: binds), logger: logger)
    }

    /// Removes a REST-declared endpoint; with `hide`, leaves a marker that hides the configuration file's entry.
    public func delete(_ name: String, hide: Bool) async throws {
        var binds = PostgresBindings()
        binds.append(name)
        let sql = hide ? """
            INSERT INTO \(table) (name, configuration) VALUES ($1, NULL)
            ON CONFLICT (name) DO UPDATE SET configuration = NULL, updated_at = now()
            """ : "DELETE FROM \(table) WHERE name = $1"
        try await database.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger)
    }
}
