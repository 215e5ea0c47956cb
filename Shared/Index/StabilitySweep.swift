import Logging
import Model
import PostgresNIO

/// Marks patients, studies and series stable once they received no instance for `StableAge` seconds, and logs
/// `StableSeries` / `StableStudy` / `StablePatient`. Safe to run from every indexer replica at once: the
/// conditional UPDATE flips each row once, so no stable event is logged twice.
public struct StabilitySweep: Sendable {
    let database: IndexDatabase
    let logger: Logger

    public init(database: IndexDatabase) {
        self.database = database
        self.logger = database.logger
    }

    /// One sweep; returns the resources that became stable, series first (the order of their change rows).
    @discardableResult
    public func run(stableAgeSeconds: Int) async throws -> [(ResourceLevel, PublicID)] {
        let logger = self.logger
        let age = Double(stableAgeSeconds)
        return try await database.withTransaction { connection in
            var stable: [(ResourceLevel, PublicID)] = []
            // Same lock order as the writer (patients, studies, series), so the two never deadlock.
            for (level, table) in [(ResourceLevel.patient, "patients"), (.study, "studies"), (.series, "series")] {
                var bindings = PostgresBindings(capacity: 1)
                bindings.append(age)
                let rows = try await connection.query(PostgresQuery(unsafeSQL: """
                    UPDATE \(table) SET is_stable = true
                    WHERE NOT is_stable AND last_update <= now() - make_interval(secs => $1)
                    RETURNING public_id
                    """, binds: bindings), logger: logger)
                for try await id in rows.decode(String.self) {
                    stable.append((level, PublicID(unchecked: id)))
                }
            }
            stable.reverse()  // Orthanc's order: series, then studies, then patients
            let changes = stable.compactMap { level, id in ChangeType.stable(level).map { ($0, level, id) } }
            if !changes.isEmpty {
                try await InstanceWriter.appendChanges(changes, on: connection, logger: logger)
            }
            return stable
        }
    }
}
