import Logging
import Model
import PostgresNIO

/// Orthanc's reconstruction (`POST /{level}/{id}/reconstruct`): the main tags the index keeps of an instance and of
/// its ancestors are written again from what its stored file says (after a change of the file, of the dictionary, or
/// of what Tessera reads from files). Metadata, labels, attachments, `LastUpdate` and the change log are left as they
/// are, as Orthanc 1.11+ does.
public struct MainTagsRebuild: Sendable {
    let database: IndexDatabase
    let logger: Logger

    public init(database: IndexDatabase) {
        self.database = database
        self.logger = database.logger
    }

    /// Writes `summary`'s main tags to `instance` and its ancestors at `levels`; false when the instance is not
    /// indexed (deleted meanwhile). Identifiers are not changed: the resource stays where it is in the tree.
    public func apply(_ summary: InstanceSummary, to instance: PublicID,
                      levels: Set<ResourceLevel> = Set(ResourceLevel.allCases)) async throws -> Bool {
        let logger = self.logger
        let patientTags = try InstanceWriter.json(summary.patientTags)
        let studyTags = try InstanceWriter.json(summary.studyTags)
        let seriesTags = try InstanceWriter.json(summary.seriesTags)
        let instanceTags = try InstanceWriter.json(summary.instanceTags)
        let expected = ExpectedInstances.compute(seriesTags: summary.seriesTags).flatMap { Int32(exactly: $0) }
        let indexInSeries = summary.indexInSeries.flatMap { Int32(exactly: $0) }
        return try await database.withTransaction { connection -> Bool in
            var keys: (instance: Int64, series: Int64, study: Int64, patient: Int64)?
            // Locked top-down, as the indexer and deletions lock them.
            for try await (patient, study, series, key) in try await connection.query("""
                SELECT p.pk, st.pk, se.pk, i.pk FROM instances i JOIN series se ON se.pk = i.series_pk
                JOIN studies st ON st.pk = se.study_pk JOIN patients p ON p.pk = st.patient_pk
                WHERE i.public_id = \(instance.value)
                FOR NO KEY UPDATE OF p, st, se, i
                """, logger: logger).decode((Int64, Int64, Int64, Int64).self) {
                keys = (key, series, study, patient)
            }
            guard let keys else { return false }
            if levels.contains(.patient) {
                try await connection.query(
                    "UPDATE patients SET main_tags = \(patientTags)::jsonb WHERE pk = \(keys.patient)", logger: logger)
                // Studies keep a copy of their patient's tags (find by patient tags at study level).
                try await connection.query(
                    "UPDATE studies SET patient_tags = \(patientTags)::jsonb WHERE patient_pk = \(keys.patient)", logger: logger)
            }
            if levels.contains(.study) {
                try await connection.query(
                    "UPDATE studies SET main_tags = \(studyTags)::jsonb WHERE pk = \(keys.study)", logger: logger)
            }
            if levels.contains(.series) {
                try await connection.query("""
                    UPDATE series SET main_tags = \(seriesTags)::jsonb, expected_instances = \(expected) WHERE pk = \(keys.series)
                    """, logger: logger)
            }
            if levels.contains(.instance) {
                try await connection.query("""
                    UPDATE instances SET main_tags = \(instanceTags)::jsonb, index_in_series = \(indexInSeries),
                           sop_class_uid = \(summary.sopClassUID), transfer_syntax_uid = \(summary.transferSyntaxUID)
                    WHERE pk = \(keys.instance)
                    """, logger: logger)
            }
            return true
        }
    }
}
