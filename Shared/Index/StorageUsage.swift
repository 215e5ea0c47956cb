import Logging
import Model
import PostgresNIO

/// What the storage holds, as Orthanc's limits count it: patients, and bytes of every stored file (DICOM files and
/// attachments of every level, as stored).
struct StorageUsage: Sendable {
    var patients: Int64
    var size: Int64

    /// Reads the counts; the size only when `size` is true (it sums every instance row).
    static func read(_ database: IndexDatabase, size: Bool, logger: Logger) async throws -> StorageUsage {
        for try await (patients, bytes) in try await database.query(PostgresQuery(unsafeSQL: """
            SELECT (SELECT count(*) FROM patients), \(size ? sizeSQL : "0::BIGINT")
            """), logger: logger).decode((Int64, Int64).self) {
            return StorageUsage(patients: patients, size: bytes)
        }
        return StorageUsage(patients: 0, size: 0)
    }

    /// The bytes stored, as one SQL expression.
    static let sizeSQL = "(SELECT COALESCE(SUM(file_size), 0) FROM instances)::BIGINT"
        + ResourceLevel.allCases.map { " + (SELECT COALESCE(SUM(compressed_size), 0) FROM \(LevelTable.of($0).table)_attachments)::BIGINT" }.joined()
}
