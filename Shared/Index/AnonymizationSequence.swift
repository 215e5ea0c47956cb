import Logging
import Model
import PostgresNIO

/// The counter of the `Anonymized<N>` patient names (Orthanc's global property `AnonymizationSequence`), shared by
/// every API replica through a PostgreSQL sequence.
public struct AnonymizationSequence: Sendable {
    let database: IndexDatabase
    let logger: Logger

    public init(database: IndexDatabase) {
        self.database = database
        self.logger = database.logger
    }

    /// The next number, from 1.
    public func next() async throws -> Int64 {
        for try await value in try await database.query("SELECT nextval('anonymization_sequence')", logger: logger)
            .decode(Int64.self) {
            return value
        }
        throw TesseraError(.database, details: "The anonymization sequence gave no value")
    }

    /// The next generated patient name.
    public func nextPatientName() async throws -> String {
        "Anonymized\(try await next())"
    }
}
