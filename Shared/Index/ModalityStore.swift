import Logging
import Model
import PostgresNIO

/// The modalities declared through the REST API (`PUT`/`DELETE /modalities/{id}`), in PostgreSQL so that every API
/// and worker replica sees the same list. ``ModalityRegistry`` merges them with the configuration file's.
public struct ModalityStore: Sendable {
    let database: IndexDatabase
    let logger: Logger

    public init(database: IndexDatabase) {
        self.database = database
        self.logger = database.logger
    }

    /// Every row: a modality, or nil for a configured modality that was deleted.
    public func all() async throws -> [String: ModalityConfiguration?] {
        var rows: [String: ModalityConfiguration?] = [:]
        for try await (name, text) in try await database.query(
            "SELECT name, configuration::text FROM modalities", logger: logger).decode((String, String?).self) {
            if let text {
                // A row written by this code always parses; one that does not is skipped rather than failing every call.
                guard let json = try? JSONValue.parse(text: text), let modality = try? ModalityConfiguration(json: json) else { continue }
                rows[name] = .some(modality)
            } else {
                rows[name] = .some(nil)
            }
        }
        return rows
    }

    /// Adds or replaces a modality.
    public func put(_ name: String, _ modality: ModalityConfiguration) async throws {
        try await database.query("""
            INSERT INTO modalities (name, configuration) VALUES (\(name), \(modality.json.compactText)::jsonb)
            ON CONFLICT (name) DO UPDATE SET configuration = EXCLUDED.configuration, updated_at = now()
            """, logger: logger)
    }

    /// Removes a REST-declared modality; with `hide`, leaves a marker that hides the configuration file's entry.
    public func delete(_ name: String, hide: Bool) async throws {
        if hide {
            try await database.query("""
                INSERT INTO modalities (name, configuration) VALUES (\(name), NULL)
                ON CONFLICT (name) DO UPDATE SET configuration = NULL, updated_at = now()
                """, logger: logger)
        } else {
            try await database.query("DELETE FROM modalities WHERE name = \(name)", logger: logger)
        }
    }
}
