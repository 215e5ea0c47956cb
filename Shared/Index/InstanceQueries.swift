import Foundation
import Logging
import Model
import PostgresNIO

/// Reads instances from the index.
public struct InstanceQueries: Sendable {
    let database: IndexDatabase
    let logger: Logger

    public init(database: IndexDatabase) {
        self.database = database
        self.logger = database.logger
    }

    /// One instance, or nil when it is not indexed.
    /// A named prepared statement: parsed and planned once per connection.
    public func instance(_ id: PublicID) async throws -> InstanceRecord? {
        for row in try await database.execute(InstanceByPublicID(id: id.value), logger: logger) {
            return try Self.record(row)
        }
        return nil
    }

    /// Instances in the order of `keys`.
    public func records(keys: [Int64]) async throws -> [InstanceRecord] {
        guard !keys.isEmpty else { return [] }
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(keys)
        let found = try await records(PostgresQuery(unsafeSQL: Self.selection + " WHERE i.pk = ANY($1)", binds: bindings))
        let byKey = Dictionary(found.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        return keys.compactMap { byKey[$0] }
    }

    /// The indexed instances among `ids`, by public ID (deleted ones are missing).
    public func records(ids: [PublicID]) async throws -> [PublicID: InstanceRecord] {
        guard !ids.isEmpty else { return [:] }
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(ids.map(\.value))
        let found = try await records(PostgresQuery(unsafeSQL: Self.selection + " WHERE i.public_id = ANY($1)", binds: bindings))
        return Dictionary(found.map { ($0.publicID, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The file of the first instance (lowest row key) below each resource of `level`, by the resource's row key:
    /// what `/tools/find` reads for tags that are not in the index. With `latestChild`, the instance Orthanc's
    /// `GetChildInstances(...).front()` gives (its depth-first walk pops the last child first): the latest study, its
    /// latest series, its latest instance — what `/module`, create-dicom's `Parent` and a merge's target read.
    public func firstFiles(of level: ResourceLevel, keys: [Int64], latestChild: Bool = false) async throws -> [Int64: BlobID] {
        guard !keys.isEmpty else { return [:] }
        let levels = ResourceLevel.allCases
        var sql = "SELECT DISTINCT ON (t\(level.depth).pk) t\(level.depth).pk, t3.file_uuid FROM instances t3"
        var depth = 3
        while depth > level.depth {
            let child = LevelTable.of(levels[depth])
            sql += " JOIN \(LevelTable.of(levels[depth - 1]).table) t\(depth - 1) ON t\(depth - 1).pk = t\(depth).\(child.parentColumn ?? "pk")"
            depth -= 1
        }
        var order = " ORDER BY t\(level.depth).pk"
        if level != .instance {
            order += ", " + (latestChild ? (level.depth + 1...3).map { "t\($0).pk DESC" }.joined(separator: ", ") : "t3.pk")
        }
        sql += " WHERE t\(level.depth).pk = ANY($1)" + order
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(keys)
        var files: [Int64: BlobID] = [:]
        for try await (key, uuid) in try await database.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger)
            .decode((Int64, String).self) {
            files[key] = try BlobID.stored(uuid)
        }
        return files
    }

    /// The instances below the given resources (any level; a resource and its ancestor may both be listed), in
    /// Orthanc's archive order: patients, studies and series by public ID, instances as they arrived.
    public func archiveEntries(_ resources: [(ResourceLevel, PublicID)]) async throws -> [ArchiveEntry] {
        guard !resources.isEmpty else { return [] }
        var bindings = PostgresBindings()
        var filters: [String] = []
        for (level, id) in resources {
            bindings.append(id.value)
            filters.append("t\(level.depth).public_id = $\(bindings.count)")
        }
        let sql = """
            SELECT DISTINCT t3.pk, t3.public_id, t3.file_uuid, t3.file_size, t2.public_id, t1.public_id, t0.public_id,
                   t0.main_tags::text, t1.main_tags::text, t2.main_tags::text
            FROM instances t3 JOIN series t2 ON t2.pk = t3.series_pk JOIN studies t1 ON t1.pk = t2.study_pk
                 JOIN patients t0 ON t0.pk = t1.patient_pk
            WHERE \(filters.joined(separator: " OR "))
            ORDER BY t0.public_id, t1.public_id, t2.public_id, t3.pk
            """
        var entries: [ArchiveEntry] = []
        for try await (key, id, uuid, size, series, study, patient, patientTags, studyTags, seriesTags) in try await database.query(
            PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger)
            .decode((Int64, String, String, Int64, String, String, String, String, String, String).self) {
            entries.append(ArchiveEntry(
                instanceKey: key, instance: PublicID(unchecked: id), fileUUID: try BlobID.stored(uuid), fileSize: size,
                series: PublicID(unchecked: series), study: PublicID(unchecked: study), patient: PublicID(unchecked: patient),
                patientTags: ResourceQueries.tags(patientTags), studyTags: ResourceQueries.tags(studyTags),
                seriesTags: ResourceQueries.tags(seriesTags)))
        }
        return entries
    }

    /// Number of indexed instances.
    public func count() async throws -> Int {
        for try await count in try await database.query("SELECT COUNT(*) FROM instances", logger: logger).decode(Int64.self) {
            return Int(count)
        }
        return 0
    }

    static let selection = """
        SELECT i.pk, i.public_id, s.public_id, i.main_tags::text, i.file_uuid, i.file_size, i.index_in_series,
               i.sop_class_uid, i.transfer_syntax_uid, i.origin, i.remote_aet, i.called_aet, i.remote_ip, i.reception_date,
               i.http_username, i.file_md5, ARRAY(SELECT l.label FROM instances_labels l WHERE l.resource_pk = i.pk ORDER BY l.label)
        FROM instances i JOIN series s ON s.pk = i.series_pk
        """

    private func records(_ query: PostgresQuery) async throws -> [InstanceRecord] {
        var records: [InstanceRecord] = []
        let rows = try await database.query(query, logger: logger)
        for try await row in rows {
            records.append(try Self.record(row))
        }
        return records
    }

    static func record(_ row: PostgresRow) throws -> InstanceRecord {
        let (key, id, series, tags, uuid, size, index, sopClass, syntax, origin, remoteAET, calledAET, remoteIP, received, user,
             md5, labels) = try row.decode((Int64, String, String, String, String, Int64, Int32?, String?, String?, String, String?,
                                            String?, String?, Date, String?, String?, [String]).self)
        return InstanceRecord(
            key: key, publicID: PublicID(unchecked: id), parentSeries: PublicID(unchecked: series),
            mainTags: ResourceQueries.tags(tags), fileUUID: try BlobID.stored(uuid), fileSize: size, fileMD5: md5, indexInSeries: index.map(Int.init),
            sopClassUID: sopClass, transferSyntaxUID: syntax, origin: origin, remoteAET: remoteAET, calledAET: calledAET,
            remoteIP: remoteIP, receptionDate: received, httpUsername: user, labels: labels)
    }
}
