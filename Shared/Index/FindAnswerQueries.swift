import Foundation
import Logging
import Model
import PostgresNIO

/// What a C-FIND answer is made of in the index: the main tags of a matched resource and of its ancestors, and the
/// computed attributes asked for (counts of related resources, modalities and SOP classes in a study), one
/// statement per page of matches.
public struct FindAnswerQueries: Sendable {
    let database: IndexDatabase
    let logger: Logger

    public init(database: IndexDatabase) {
        self.database = database
        self.logger = database.logger
    }

    /// An attribute Orthanc computes from the index rather than reading it.
    public enum Computed: CaseIterable, Sendable, Hashable {
        case numberOfPatientRelatedStudies, numberOfPatientRelatedSeries, numberOfPatientRelatedInstances
        case numberOfStudyRelatedSeries, numberOfStudyRelatedInstances, modalitiesInStudy, sopClassesInStudy
        case numberOfSeriesRelatedInstances

        /// The level where it has a value (elsewhere it is answered empty).
        public var level: ResourceLevel {
            switch self {
            case .numberOfPatientRelatedStudies, .numberOfPatientRelatedSeries, .numberOfPatientRelatedInstances: .patient
            case .numberOfStudyRelatedSeries, .numberOfStudyRelatedInstances, .modalitiesInStudy, .sopClassesInStudy: .study
            case .numberOfSeriesRelatedInstances: .series
            }
        }

        /// The SQL of its value for the row `r` of its level (text, never NULL).
        var sql: String {
            switch self {
            case .numberOfPatientRelatedStudies:
                "(SELECT COUNT(*) FROM studies c WHERE c.patient_pk = r.pk)::text"
            case .numberOfPatientRelatedSeries:
                "(SELECT COUNT(*) FROM series c JOIN studies t2 ON t2.pk = c.study_pk WHERE t2.patient_pk = r.pk)::text"
            case .numberOfPatientRelatedInstances:
                """
                (SELECT COUNT(*) FROM instances c JOIN series s2 ON s2.pk = c.series_pk JOIN studies t2 ON t2.pk = s2.study_pk
                 WHERE t2.patient_pk = r.pk)::text
                """
            case .numberOfStudyRelatedSeries:
                "(SELECT COUNT(*) FROM series c WHERE c.study_pk = r.pk)::text"
            case .numberOfStudyRelatedInstances:
                "(SELECT COUNT(*) FROM instances c JOIN series s2 ON s2.pk = c.series_pk WHERE s2.study_pk = r.pk)::text"
            case .modalitiesInStudy:
                """
                COALESCE((SELECT string_agg(DISTINCT c.main_tags->>'Modality', chr(92) ORDER BY c.main_tags->>'Modality')
                          FROM series c WHERE c.study_pk = r.pk), '')
                """
            case .sopClassesInStudy:
                """
                COALESCE((SELECT string_agg(DISTINCT c.sop_class_uid, chr(92) ORDER BY c.sop_class_uid)
                          FROM instances c JOIN series s2 ON s2.pk = c.series_pk WHERE s2.study_pk = r.pk), '')
                """
            case .numberOfSeriesRelatedInstances:
                "(SELECT COUNT(*) FROM instances c WHERE c.series_pk = r.pk)::text"
            }
        }
    }

    /// One matched resource.
    public struct Row: Sendable, Hashable {
        /// Main tags by Orthanc's name: the resource's, its ancestors' where it has none of its own.
        public var tags: [String: String]
        public var computed: [Computed: String]
    }

    /// The rows of `keys` at `level`, with the `computed` attributes of that level.
    public func rows(_ level: ResourceLevel, keys: [Int64], computed: Set<Computed>) async throws -> [Int64: Row] {
        guard !keys.isEmpty else { return [:] }
        let wanted = Computed.allCases.filter { computed.contains($0) && $0.level == level }
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(keys)
        let values = wanted.isEmpty ? "ARRAY[]::text[]" : "ARRAY[" + wanted.map(\.sql).joined(separator: ", ") + "]::text[]"
        let sql = "SELECT r.pk, \(Self.mergedTags(level))::text, \(values) \(Self.from(level)) WHERE r.pk = ANY($1)"
        var rows: [Int64: Row] = [:]
        for try await (key, tags, computedValues) in try await database.query(PostgresQuery(unsafeSQL: sql, binds: bindings),
                                                                          logger: logger).decode((Int64, String, [String]).self) {
            var row = Row(tags: ResourceQueries.tags(tags), computed: [:])
            for (index, item) in wanted.enumerated() where index < computedValues.count {
                row.computed[item] = computedValues[index]
            }
            rows[key] = row
        }
        return rows
    }

    /// The JSONB of the main tags of the row `r` and its ancestors (the deeper level wins a name both have).
    static func mergedTags(_ level: ResourceLevel) -> String {
        switch level {
        case .patient: "r.main_tags"
        case .study: "(COALESCE(r.patient_tags, p.main_tags) || r.main_tags)"
        case .series: "(COALESCE(t.patient_tags, p.main_tags) || t.main_tags || r.main_tags)"
        case .instance: "(COALESCE(t.patient_tags, p.main_tags) || t.main_tags || s.main_tags || r.main_tags)"
        }
    }

    static func from(_ level: ResourceLevel) -> String {
        switch level {
        case .patient: "FROM patients r"
        case .study: "FROM studies r JOIN patients p ON p.pk = r.patient_pk"
        case .series: "FROM series r JOIN studies t ON t.pk = r.study_pk JOIN patients p ON p.pk = t.patient_pk"
        case .instance:
            "FROM instances r JOIN series s ON s.pk = r.series_pk JOIN studies t ON t.pk = s.study_pk JOIN patients p ON p.pk = t.patient_pk"
        }
    }
}
