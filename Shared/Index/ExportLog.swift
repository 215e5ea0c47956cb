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

    /// Records that a resource was sent to `remoteModality` (a modality's or a peer's symbolic name), with its
    /// identifiers as Orthanc logs them; nothing when the resource is not indexed.
    public func record(_ level: ResourceLevel, _ id: PublicID, remoteModality: String) async throws {
        let columns: String
        let joins: String
        switch level {
        case .patient:
            columns = "p.patient_id, NULL::text, NULL::text, NULL::text"
            joins = "patients p"
        case .study:
            columns = "p.patient_id, st.study_instance_uid, NULL::text, NULL::text"
            joins = "studies st JOIN patients p ON p.pk = st.patient_pk"
        case .series:
            columns = "p.patient_id, st.study_instance_uid, se.series_instance_uid, NULL::text"
            joins = "series se JOIN studies st ON st.pk = se.study_pk JOIN patients p ON p.pk = st.patient_pk"
        case .instance:
            columns = "p.patient_id, st.study_instance_uid, se.series_instance_uid, i.sop_instance_uid"
            joins = """
                instances i JOIN series se ON se.pk = i.series_pk JOIN studies st ON st.pk = se.study_pk
                JOIN patients p ON p.pk = st.patient_pk
                """
        }
        let alias = [ResourceLevel.patient: "p", .study: "st", .series: "se", .instance: "i"][level] ?? "p"
        var bindings = PostgresBindings()
        bindings.append(level.code)
        bindings.append(id.value)
        bindings.append(remoteModality)
        try await database.query(PostgresQuery(unsafeSQL: """
            INSERT INTO exports (resource_level, public_id, remote_modality, patient_id, study_instance_uid,
                                 series_instance_uid, sop_instance_uid)
            SELECT $1, $2, $3, \(columns) FROM \(joins) WHERE \(alias).public_id = $2
            """, binds: bindings), logger: logger)
    }

    /// Empties the log (`DELETE /exports`); sequence numbers keep increasing.
    public func clear() async throws {
        try await database.query("DELETE FROM exports", logger: logger)
    }
}
