import Logging
import Model
import PostgresNIO

/// Orthanc's patient protection (`/patients/{id}/protected`): a protected patient leaves the recycling order and is
/// never deleted to make room; unprotected again, it goes to the end of the order, as if it had just been stored.
/// Protection writes no change.
public struct PatientProtection: Sendable {
    let database: IndexDatabase
    let logger: Logger

    public init(database: IndexDatabase) {
        self.database = database
        self.logger = database.logger
    }

    /// Whether the patient is protected; nil when no patient has this ID.
    public func isProtected(_ id: PublicID) async throws -> Bool? {
        for try await seq in try await database.query(
            "SELECT recycling_seq FROM patients WHERE public_id = \(id.value)", logger: logger).decode(Int64?.self) {
            return seq == nil
        }
        return nil
    }

    /// Protects or unprotects the patient; false when no patient has this ID. Unprotecting an unprotected patient
    /// leaves its place in the order.
    public func set(_ id: PublicID, protected: Bool) async throws -> Bool {
        let statement: PostgresQuery = protected
            ? "UPDATE patients SET recycling_seq = NULL WHERE public_id = \(id.value) RETURNING pk"
            : """
              UPDATE patients SET recycling_seq = COALESCE(recycling_seq, nextval('patient_recycling_order'))
              WHERE public_id = \(id.value) RETURNING pk
              """
        for try await _ in try await database.query(statement, logger: logger).decode(Int64.self) {
            return true
        }
        return false
    }
}
