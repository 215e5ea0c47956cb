import Foundation
import Logging
import Model
import PostgresNIO

/// Reads patients, studies and series (and navigates between all four levels) from the index.
public struct ResourceQueries: Sendable {
    let database: IndexDatabase
    let logger: Logger

    public init(database: IndexDatabase) {
        self.database = database
        self.logger = database.logger
    }

    /// Row keys and public IDs of a level in index order, skipping `since`, at most `limit` (all when nil).
    public func page(_ level: ResourceLevel, since: Int = 0, limit: Int? = nil) async throws -> [(key: Int64, id: PublicID)] {
        let sql = "SELECT pk, public_id FROM \(LevelTable.of(level).table) ORDER BY pk OFFSET \(max(0, since)) LIMIT "
            + (limit.map { String(max(0, $0)) } ?? "ALL")
        var page: [(key: Int64, id: PublicID)] = []
        for try await (key, id) in try await database.query(PostgresQuery(unsafeSQL: sql), logger: logger).decode((Int64, String).self) {
            page.append((key, PublicID(unchecked: id)))
        }
        return page
    }

    /// Row keys of the `target` level related to resource `id` of level `anchor` (its descendants or its ancestor).
    public func relatedKeys(of id: PublicID, at anchor: ResourceLevel, target: ResourceLevel) async throws -> [Int64] {
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(id.value)
        return try await keys(PostgresQuery(unsafeSQL: LevelTable.relatedKeysSQL(anchor: anchor, target: target), binds: bindings))
    }

    /// The row key of a resource, or nil when it is not indexed.
    public func key(of id: PublicID, at level: ResourceLevel) async throws -> Int64? {
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(id.value)
        return try await keys(PostgresQuery(unsafeSQL: "SELECT pk FROM \(LevelTable.of(level).table) WHERE public_id = $1", binds: bindings)).first
    }

    /// The level of a resource whose level is not known (`/tools/create-archive`, bulk deletion); nil when unknown.
    public func level(of id: PublicID) async throws -> ResourceLevel? {
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(id.value)
        let sql = ResourceLevel.allCases.map { "SELECT \($0.code)::SMALLINT FROM \(LevelTable.of($0).table) WHERE public_id = $1" }
            .joined(separator: " UNION ALL ") + " LIMIT 1"
        for try await code in try await database.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger).decode(Int16.self) {
            return ResourceLevel(code: code)
        }
        return nil
    }

    /// The calling AE title that sent a series' first instance (Orthanc's series `RemoteAET` metadata).
    public func firstRemoteAET(ofSeries id: PublicID) async throws -> String? {
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(id.value)
        for try await aet in try await database.query(PostgresQuery(unsafeSQL: """
            SELECT i.remote_aet FROM instances i JOIN series s ON s.pk = i.series_pk WHERE s.public_id = $1 ORDER BY i.pk LIMIT 1
            """, binds: bindings), logger: logger).decode(String?.self) {
            return aet
        }
        return nil
    }

    /// One patient, study or series with its children, or nil when it is not indexed. A named prepared statement per
    /// level: `GET /studies/{id}` is parsed and planned once per connection, not once per request.
    public func resource(_ level: ResourceLevel, _ id: PublicID) async throws -> ResourceRecord? {
        switch level {
        case .patient: return try await first(ResourceByPublicID<PatientLevel>(id: id.value), level)
        case .study: return try await first(ResourceByPublicID<StudyLevel>(id: id.value), level)
        case .series: return try await first(ResourceByPublicID<SeriesLevel>(id: id.value), level)
        case .instance: return nil
        }
    }

    private func first<Level: StatementLevel>(_ statement: ResourceByPublicID<Level>, _ level: ResourceLevel) async throws -> ResourceRecord? {
        for row in try await database.execute(statement, logger: logger) {
            return Self.record(level, row)
        }
        return nil
    }

    /// Patients, studies or series with their children and labels, in the order of `keys`.
    public func records(_ level: ResourceLevel, keys: [Int64]) async throws -> [ResourceRecord] {
        guard !keys.isEmpty else { return [] }
        let found = try await records(level, where: "r.pk = ANY($1)", binds: try binds(keys))
        let byKey = Dictionary(found.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        return keys.compactMap { byKey[$0] }
    }

    /// One statement per call: the row, its parent's ID, its children and labels (and, for a series, the index of
    /// each instance) aggregated in subqueries, so that `GET /studies/{id}` costs one round trip.
    private func records(_ level: ResourceLevel, where condition: String, binds: PostgresBindings) async throws -> [ResourceRecord] {
        guard level != .instance else { return [] }
        var records: [ResourceRecord] = []
        for try await row in try await database.query(PostgresQuery(unsafeSQL: Self.recordSQL(level, where: condition), binds: binds),
                                                    logger: logger).decode(RecordRow.self) {
            records.append(Self.record(level, row))
        }
        return records
    }

    /// The columns of a patient, study or series record (see ``recordSQL(_:where:)``).
    typealias RecordRow = (Int64, String, String, String?, Date, Bool, Int32?, String?, [String], [String], [Int32])

    /// One statement per resource: the row, its parent's ID, its children and labels (and, for a series, the index of
    /// each instance) aggregated in subqueries.
    static func recordSQL(_ level: ResourceLevel, where condition: String) -> String {
        let table = LevelTable.of(level)
        let child = LevelTable.of(level.child ?? .instance)
        let parentJoin = level.parent.map { "LEFT JOIN \(LevelTable.of($0).table) p ON p.pk = r.\(table.parentColumn ?? "pk")" } ?? ""
        let indices = level == .series
            ? "ARRAY(SELECT COALESCE(i.index_in_series, -1) FROM instances i WHERE i.series_pk = r.pk ORDER BY i.pk)"
            : "ARRAY[]::INTEGER[]"
        return """
            SELECT r.pk, r.public_id, r.main_tags::text, \(level.parent == nil ? "NULL::text" : "p.public_id"),
                   r.last_update, r.is_stable, \(level == .series ? "r.expected_instances" : "NULL::integer"),
                   \(level == .study ? "COALESCE(r.patient_tags, p.main_tags)::text" : "NULL::text"),
                   ARRAY(SELECT c.public_id FROM \(child.table) c WHERE c.\(child.parentColumn ?? "pk") = r.pk ORDER BY c.pk),
                   ARRAY(SELECT l.label FROM \(table.table)_labels l WHERE l.resource_pk = r.pk ORDER BY l.label),
                   \(indices)
            FROM \(table.table) r \(parentJoin)
            WHERE \(condition)
            """
    }

    static func record(_ level: ResourceLevel, _ row: RecordRow) -> ResourceRecord {
        let (key, id, mainTags, parent, lastUpdate, stable, expected, patientTags, children, labels, indices) = row
        return ResourceRecord(
            key: key, level: level, publicID: PublicID(unchecked: id), mainTags: Self.tags(mainTags),
            parent: parent.map(PublicID.init(unchecked:)), children: children.map(PublicID.init(unchecked:)),
            lastUpdate: lastUpdate, isStable: stable, patientMainTags: patientTags.map(Self.tags),
            expectedInstances: expected.map(Int.init), indicesInSeries: indices.map { $0 < 0 ? nil : Int($0) },
            labels: labels)
    }

    /// Labels of resources of `level`, by row key, each list sorted.
    public func labels(_ level: ResourceLevel, keys: [Int64]) async throws -> [Int64: [String]] {
        guard !keys.isEmpty else { return [:] }
        var labels: [Int64: [String]] = [:]
        for try await (key, label) in try await database.query(PostgresQuery(
            unsafeSQL: "SELECT resource_pk, label FROM \(LevelTable.of(level).table)_labels WHERE resource_pk = ANY($1) ORDER BY label",
            binds: try binds(keys)), logger: logger).decode((Int64, String).self) {
            labels[key, default: []].append(label)
        }
        return labels
    }

    /// The distinct modalities of a study's series, sorted (Orthanc's computed `ModalitiesInStudy`).
    public func modalitiesInStudy(_ id: PublicID) async throws -> [String] {
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(id.value)
        var modalities: [String] = []
        for try await modality in try await database.query(PostgresQuery(unsafeSQL: """
            SELECT DISTINCT s.main_tags->>'Modality' FROM series s JOIN studies t ON t.pk = s.study_pk
            WHERE t.public_id = $1 AND s.main_tags ? 'Modality' ORDER BY 1
            """, binds: bindings), logger: logger).decode(String.self) {
            modalities.append(modality)
        }
        return modalities
    }

    /// The distinct SOP classes of a study's instances, sorted (Orthanc's computed `SOPClassesInStudy`).
    public func sopClassesInStudy(_ id: PublicID) async throws -> [String] {
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(id.value)
        var classes: [String] = []
        for try await uid in try await database.query(PostgresQuery(unsafeSQL: """
            SELECT DISTINCT i.sop_class_uid FROM instances i JOIN series s ON s.pk = i.series_pk JOIN studies t ON t.pk = s.study_pk
            WHERE t.public_id = $1 AND i.sop_class_uid IS NOT NULL ORDER BY 1
            """, binds: bindings), logger: logger).decode(String.self) {
            classes.append(uid)
        }
        return classes
    }

    /// Totals over the whole index.
    public func statistics() async throws -> ResourceStatistics {
        let attachments = { (column: String) in
            ResourceLevel.allCases.map { "(SELECT COALESCE(SUM(\(column)), 0) FROM \(LevelTable.of($0).table)_attachments)" }
                .joined(separator: " + ")
        }
        for try await (patients, studies, series, instances, size, stored, uncompressed) in try await database.query(PostgresQuery(unsafeSQL: """
            SELECT (SELECT COUNT(*) FROM patients), (SELECT COUNT(*) FROM studies), (SELECT COUNT(*) FROM series),
                   (SELECT COUNT(*) FROM instances), (SELECT COALESCE(SUM(file_size), 0)::BIGINT FROM instances),
                   (\(attachments("compressed_size")))::BIGINT, (\(attachments("uncompressed_size")))::BIGINT
            """), logger: logger).decode((Int64, Int64, Int64, Int64, Int64, Int64, Int64).self) {
            return ResourceStatistics(patients: Int(patients), studies: Int(studies), series: Int(series),
                                      instances: Int(instances), diskSize: size, attachmentsSize: stored,
                                      attachmentsUncompressedSize: uncompressed)
        }
        return ResourceStatistics(patients: 0, studies: 0, series: 0, instances: 0, diskSize: 0)
    }

    /// Counts and size below one resource (the resource itself counts at its own level); nil when unknown.
    public func statistics(_ level: ResourceLevel, _ id: PublicID) async throws -> ResourceStatistics? {
        guard try await key(of: id, at: level) != nil else { return nil }
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(id.value)
        var counts: [ResourceLevel: Int] = [level: 1]
        var level = level
        let anchor = level
        while let child = level.child {
            // Counted in PostgreSQL: a patient may have hundreds of thousands of instances.
            for try await count in try await database.query(PostgresQuery(
                unsafeSQL: "SELECT COUNT(*) FROM (\(LevelTable.relatedKeysSQL(anchor: anchor, target: child))) AS related",
                binds: bindings), logger: logger).decode(Int64.self) {
                counts[child] = Int(count)
            }
            level = child
        }
        var size: Int64 = 0
        for try await total in try await database.query(PostgresQuery(unsafeSQL: """
            SELECT COALESCE(SUM(file_size), 0)::BIGINT FROM instances
            WHERE pk IN (\(LevelTable.relatedKeysSQL(anchor: anchor, target: .instance)))
            """, binds: bindings), logger: logger).decode(Int64.self) {
            size = total
        }
        return ResourceStatistics(patients: counts[.patient] ?? 0, studies: counts[.study] ?? 0, series: counts[.series] ?? 0,
                                  instances: counts[.instance] ?? 0, diskSize: size)
    }

    private func keys(_ query: PostgresQuery) async throws -> [Int64] {
        var keys: [Int64] = []
        for try await key in try await database.query(query, logger: logger).decode(Int64.self) {
            keys.append(key)
        }
        return keys
    }

    private func binds(_ keys: [Int64]) throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(keys)
        return bindings
    }

    static func tags(_ json: String) -> [String: String] {
        (try? JSONDecoder().decode([String: String].self, from: Data(json.utf8))) ?? [:]
    }
}
