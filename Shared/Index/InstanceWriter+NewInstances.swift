import Foundation
import Logging
import Model
import PostgresNIO

extension InstanceWriter {
    /// What ``writeNew(_:of:on:state:blobExists:logger:)`` settled, and the batch positions left to the one-by-one path.
    struct NewInstances {
        var results: [Int: IndexedInstance] = [:]
        /// Positions not settled here (an indexed copy exists, the instance is twice in the batch, or a concurrent
        /// writer indexed it meanwhile), in the order they were given.
        var rest: [Int] = []
    }

    /// The common case of a batch, instances not indexed yet, in one statement per table instead of several per
    /// instance: one lookup of the instance rows, one upsert of the patients, the studies and the series (each marking
    /// an existing row as updated, as ``finish(_:on:logger:)`` would), one insert of the instances. Changes are logged
    /// in the one-by-one path's order: each instance, then the parents it created, deepest first.
    ///
    /// `positions` are batch positions in the batch's locking order, none tombstoned.
    static func writeNew(_ positions: [Int], of batch: [StoredInstance], on connection: PostgresConnection,
                         state: inout BatchState, blobExists: @Sendable (BlobID) -> Bool,
                         logger: Logger) async throws -> NewInstances {
        var outcome = NewInstances()
        let ids = batch.map { Keys($0.summary.identifiers) }
        var copies: [PublicID: Int] = [:]
        for position in positions { copies[ids[position].instance, default: 0] += 1 }
        let single = positions.filter { copies[ids[$0].instance] == 1 }
        guard !single.isEmpty else {
            outcome.rest = positions
            return outcome
        }
        var indexed: Set<String> = []
        for try await publicID in try await connection.query(
            "SELECT public_id FROM instances WHERE public_id = ANY(\(single.map { ids[$0].instance.value }))", logger: logger)
            .decode(String.self) {
            indexed.insert(publicID)
        }
        var fresh: [Int] = []
        for position in single where !indexed.contains(ids[position].instance.value) {
            if blobExists(batch[position].fileUUID) {
                fresh.append(position)
            } else {
                outcome.results[position] = IndexedInstance(publicID: ids[position].instance, outcome: .missingBlob)
            }
        }
        guard !fresh.isEmpty else {
            outcome.rest = positions.filter { outcome.results[$0] == nil }
            return outcome
        }

        var created: Set<LevelKey> = []
        let patients = try await upsert(.patient, fresh.map { position -> (PublicID, ParentRow) in
            let summary = batch[position].summary
            return (ids[position].patient, ParentRow(public_id: ids[position].patient.value, patient_id: summary.identifiers.patientID,
                                                     main_tags: summary.patientTags))
        }, sql: """
            INSERT INTO patients (public_id, patient_id, main_tags)
            SELECT r.public_id, r.patient_id, r.main_tags
            FROM jsonb_to_recordset($1::jsonb) AS r(public_id text, patient_id text, main_tags jsonb) ORDER BY r.public_id
            ON CONFLICT (public_id) DO UPDATE SET last_update = now(), is_stable = false,
               recycling_seq = CASE WHEN patients.recycling_seq IS NULL THEN NULL ELSE nextval('patient_recycling_order') END
            RETURNING public_id, pk, (xmax = 0)
            """, on: connection, state: &state, created: &created, logger: logger)
        let studies = try await upsert(.study, fresh.map { position -> (PublicID, ParentRow) in
            let summary = batch[position].summary
            return (ids[position].study, ParentRow(public_id: ids[position].study.value, parent_pk: patients[ids[position].patient],
                                                   uid: summary.identifiers.studyInstanceUID, main_tags: summary.studyTags,
                                                   patient_tags: summary.patientTags))
        }, sql: childUpsert("studies", parent: "patient_pk", uid: "study_instance_uid", extra: ("patient_tags", "jsonb")),
           on: connection, state: &state, created: &created, logger: logger)
        let series = try await upsert(.series, fresh.map { position -> (PublicID, ParentRow) in
            let summary = batch[position].summary
            let expected = ExpectedInstances.compute(seriesTags: summary.seriesTags).flatMap { Int32(exactly: $0) }
            return (ids[position].series, ParentRow(public_id: ids[position].series.value, parent_pk: studies[ids[position].study],
                                                    uid: summary.identifiers.seriesInstanceUID, main_tags: summary.seriesTags,
                                                    expected_instances: expected))
        }, sql: childUpsert("series", parent: "study_pk", uid: "series_instance_uid", extra: ("expected_instances", "integer")),
           on: connection, state: &state, created: &created, logger: logger)

        let rows = fresh.map { position -> InstanceRow in
            let instance = batch[position], summary = instance.summary
            return InstanceRow(
                public_id: ids[position].instance.value, series_pk: series[ids[position].series],
                sop_instance_uid: summary.identifiers.sopInstanceUID, main_tags: summary.instanceTags,
                file_uuid: instance.fileUUID.value, file_size: Int64(instance.fileSize), file_md5: instance.fileMD5,
                ingest_ms: instance.fileUUID.timestampMilliseconds, index_in_series: summary.indexInSeries.flatMap { Int32(exactly: $0) },
                sop_class_uid: summary.sopClassUID, transfer_syntax_uid: summary.transferSyntaxUID, origin: instance.origin,
                remote_aet: instance.remoteAET, called_aet: instance.calledAET, remote_ip: instance.remoteIP,
                reception_us: Int64((instance.receptionDate.timeIntervalSince1970 * 1_000_000).rounded(.down)),
                http_username: instance.httpUsername)
        }
        var inserted: Set<String> = []
        for try await publicID in try await connection.query("""
            INSERT INTO instances (public_id, series_pk, sop_instance_uid, main_tags, file_uuid, file_size, file_md5, ingest_ms,
                                   index_in_series, sop_class_uid, transfer_syntax_uid, origin, remote_aet, called_aet, remote_ip,
                                   reception_date, http_username)
            SELECT r.public_id, r.series_pk, r.sop_instance_uid, r.main_tags, r.file_uuid, r.file_size, r.file_md5, r.ingest_ms,
                   r.index_in_series, r.sop_class_uid, r.transfer_syntax_uid, r.origin, r.remote_aet, r.called_aet, r.remote_ip,
                   'epoch'::timestamptz + r.reception_us * interval '1 microsecond', r.http_username
            FROM jsonb_to_recordset(\(try recordset(rows))::jsonb) AS r(
                public_id text, series_pk bigint, sop_instance_uid text, main_tags jsonb, file_uuid text, file_size bigint,
                file_md5 text, ingest_ms bigint, index_in_series integer, sop_class_uid text, transfer_syntax_uid text, origin text,
                remote_aet text, called_aet text, remote_ip text, reception_us bigint, http_username text)
            ORDER BY r.public_id
            ON CONFLICT (public_id) DO NOTHING
            RETURNING public_id
            """, logger: logger).decode(String.self) {
            inserted.insert(publicID)
        }

        var logged: Set<LevelKey> = []
        for position in fresh {
            let keys = ids[position]
            guard inserted.contains(keys.instance.value) else { continue }  // a concurrent writer indexed it: decided again
            try await recordProvenance(batch[position], on: connection, logger: logger)
            state.changes.append((.newInstance, .instance, keys.instance))
            for (level, id) in [(ResourceLevel.series, keys.series), (.study, keys.study), (.patient, keys.patient)] {
                let key = LevelKey(level: level, id: id)
                if created.contains(key), logged.insert(key).inserted { state.changes.append((.new(level), level, id)) }
            }
            state.written.append(position)
            outcome.results[position] = IndexedInstance(publicID: keys.instance, outcome: .indexed)
        }
        outcome.rest = positions.filter { outcome.results[$0] == nil }
        return outcome
    }

    /// Upserts the distinct parents of `rows` (the first row of each public ID) and returns their keys, remembered in
    /// `state` for the one-by-one path; the parents the statement created are added to `created`.
    private static func upsert(_ level: ResourceLevel, _ rows: [(PublicID, ParentRow)], sql: String,
                               on connection: PostgresConnection, state: inout BatchState, created: inout Set<LevelKey>,
                               logger: Logger) async throws -> [PublicID: Int64] {
        var seen: Set<PublicID> = []
        let distinct = rows.filter { seen.insert($0.0).inserted }.map(\.1)
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(try recordset(distinct))
        var keys: [PublicID: Int64] = [:]
        for try await (publicID, key, isNew) in try await connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger)
            .decode((String, Int64, Bool).self) {
            let id = PublicID(unchecked: publicID)
            keys[id] = key
            state.keys[level, default: [:]][id] = key
            if isNew { created.insert(LevelKey(level: level, id: id)) }
        }
        guard keys.count == distinct.count else {
            throw TesseraError(.database, message: "The index returned no row key", details: "\(level)")
        }
        return keys
    }

    /// The upsert of studies or series from ``ParentRow``s: `parent` is the column of the parent's key, `uid` that of
    /// the DICOM UID, `extra` the level's one more column (name and SQL type).
    private static func childUpsert(_ table: String, parent: String, uid: String, extra: (column: String, type: String)) -> String {
        """
        INSERT INTO \(table) (public_id, \(parent), \(uid), main_tags, \(extra.column))
        SELECT r.public_id, r.parent_pk, r.uid, r.main_tags, r.\(extra.column)
        FROM jsonb_to_recordset($1::jsonb) AS r(public_id text, parent_pk bigint, uid text, main_tags jsonb, \(extra.column) \(extra.type))
        ORDER BY r.public_id
        ON CONFLICT (public_id) DO UPDATE SET last_update = now(), is_stable = false
        RETURNING public_id, pk, (xmax = 0)
        """
    }

    private static func recordset(_ rows: [some Encodable]) throws -> String {
        String(decoding: try recordEncoder.encode(rows), as: UTF8.self)
    }

    private static let recordEncoder = JSONEncoder()

    /// The public IDs of an instance and its parents, computed once.
    private struct Keys {
        let patient, study, series, instance: PublicID

        init(_ identifiers: InstanceIdentifiers) {
            patient = identifiers.patientPublicID
            study = identifiers.studyPublicID
            series = identifiers.seriesPublicID
            instance = identifiers.instancePublicID
        }
    }

    /// A resource of a given level (public IDs of different levels may be equal).
    struct LevelKey: Hashable {
        let level: ResourceLevel
        let id: PublicID
    }

    /// A patient, study or series row for `jsonb_to_recordset`.
    private struct ParentRow: Encodable {
        var public_id: String
        var patient_id: String?
        var parent_pk: Int64?
        var uid: String?
        var main_tags: [String: String]
        var patient_tags: [String: String]?
        var expected_instances: Int32?
    }

    /// An instance row for `jsonb_to_recordset`.
    private struct InstanceRow: Encodable {
        var public_id: String
        var series_pk: Int64?
        var sop_instance_uid: String
        var main_tags: [String: String]
        var file_uuid: String
        var file_size: Int64
        var file_md5: String?
        var ingest_ms: Int64
        var index_in_series: Int32?
        var sop_class_uid: String?
        var transfer_syntax_uid: String?
        var origin: String
        var remote_aet: String?
        var called_aet: String?
        var remote_ip: String?
        var reception_us: Int64
        var http_username: String?
    }
}
