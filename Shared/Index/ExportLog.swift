import Foundation
import Logging
import Model
import PostgresNIO

/// Orthanc's export log (`/exports`, kept when `LogExportedResources` is true). Rows are written by the jobs that
/// send resources to modalities and peers; the REST API reads and clears them.
public struct ExportLog: Sendable {
    let database: IndexDatabase
    let logger: Logger

    /// One exported resource.
    public struct Entry: Sendable {
        public let seq: Int64
        public let level: ResourceLevel
        public let publicID: PublicID
        public let remoteModality: String
        public let patientID: String
        public let studyInstanceUID: String?
        public let seriesInstanceUID: String?
        public let sopInstanceUID: String?
        public let date: Date
    }

    public init(database: IndexDatabase) {
        self.database = database
        self.logger = database.logger
    }

    /// Entries with `seq > since`, oldest first, at most `limit`; or only the newest with `last`.
    public func list(since: Int64, limit: Int, last: Bool = false) async throws -> [Entry] {
        let sql = """
            SELECT seq, resource_level, public_id, remote_modality, patient_id, study_instance_uid, series_instance_uid,
                   sop_instance_uid, exported_at FROM exports
            """ + (last ? " ORDER BY seq DESC LIMIT 1" : " WHERE seq > \(since) ORDER BY seq LIMIT \(Int64(limit))")
        var entries: [Entry] = []
        for try await (seq, level, id, modality, patient, study, series, sop, date) in try await database.query(
            PostgresQuery(unsafeSQL: sql), logger: logger)
            .decode((Int64, Int16, String, String, String, String?, String?, String?, Date).self) {
            guard let resourceLevel = ResourceLevel(code: level) else { continue }
            entries.append(Entry(seq: seq, level: resourceLevel, publicID: PublicID(unchecked: id), remoteModality: modality,
                                 patientID: patient, studyInstanceUID: study, seriesInstanceUID: series, sopInstanceUID: sop,
                                 date: date))
        }
        return entries
    }

    /// Empties the log (`DELETE /exports`); sequence numbers keep increasing.
    public func clear() async throws {
        try await database.query("DELETE FROM exports", logger: logger)
    }
}
