import Foundation
import Logging
import Model
import PostgresNIO

/// Writes stored instances into the index: the patient, study and series rows they need, the instance row, and
/// the change log (`NewInstance`, `NewSeries`, `NewStudy`, `NewPatient`, in Orthanc's order). The only writer of
/// resource rows.
///
/// Idempotent under any re-delivery and any order of events:
/// - the same blob indexed twice changes nothing;
/// - with `OverwriteInstances`, a copy replaces the indexed one only when it was ingested later (``BlobID/ingestOrder``),
///   so a late or replayed event never replaces a newer file, and never causes the live blob to be removed;
/// - a deleted instance stays deleted when an event of a copy ingested no later replays (``ResourceDeleter``
///   leaves tombstones), while a copy ingested after the deletion is indexed;
/// - blobs that end up referenced by nothing (the losing copy) are queued for removal in the same transaction.
public struct InstanceWriter: Sendable {
    let database: IndexDatabase

    /// The channel on which what became of each blob written is announced at commit (``announcement(blob:outcome:)``).
    public static let notificationChannel = "tessera_instance_indexed"

    /// The payload announcing a blob's outcome: `"<blob> <outcome>"`.
    public static func announcement(blob: BlobID, outcome: IndexedInstance.Outcome) -> String {
        "\(blob.value) \(outcome.rawValue)"
    }

    /// Reads an announcement; nil for a payload of another shape.
    public static func parseAnnouncement(_ payload: String) -> (blob: BlobID, outcome: IndexedInstance.Outcome)? {
        let parts = payload.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, let blob = BlobID(validating: parts[0]),
              let outcome = IndexedInstance.Outcome(rawValue: String(parts[1])) else { return nil }
        return (blob, outcome)
    }

    public init(database: IndexDatabase) {
        self.database = database
    }

    /// Indexes a batch in one transaction and returns what happened to each instance, in the batch's order. Rows are
    /// locked in a fixed order (by public ID), so concurrent writers do not deadlock. Instances not indexed yet are
    /// written a table at a time (``writeNew(_:of:on:state:blobExists:logger:)``); the others one by one. `blobExists` is asked before a
    /// row is made to point at a blob; a missing blob gives ``IndexedInstance/Outcome/missingBlob`` and no row.
    public func write(_ batch: [StoredInstance], blobExists: @escaping @Sendable (BlobID) -> Bool) async throws -> [IndexedInstance] {
        guard !batch.isEmpty else { return [] }
        let sortKeys = batch.map { instance in
            let ids = instance.summary.identifiers
            return (ids.patientPublicID, ids.studyPublicID, ids.seriesPublicID, ids.instancePublicID, instance.fileUUID)
        }
        let order = batch.indices.sorted { sortKeys[$0] < sortKeys[$1] }
        let logger = database.logger
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await database.withTransaction { connection in
                    let tombstoned = try await Self.tombstoned(batch, orQueued: true, on: connection, logger: logger)
                    var state = BatchState()
                    var results = [IndexedInstance?](repeating: nil, count: batch.count)
                    for index in order where tombstoned.contains(index) {
                        state.orphans.insert(batch[index].fileUUID.value)
                        results[index] = IndexedInstance(publicID: batch[index].summary.identifiers.instancePublicID, outcome: .deleted)
                    }
                    let new = try await Self.writeNew(order.filter { !tombstoned.contains($0) }, of: batch, on: connection,
                                                      state: &state, blobExists: blobExists, logger: logger)
                    for (index, result) in new.results { results[index] = result }
                    for index in new.rest {
                        let result = try await Self.write(batch[index], on: connection, state: &state, blobExists: blobExists,
                                                          logger: logger)
                        if result.outcome == .indexed || result.outcome == .replaced { state.written.append(index) }
                        results[index] = result
                    }
                    for index in order {
                        guard let result = results[index] else { continue }
                        state.notifications.append(Self.announcement(blob: batch[index].fileUUID, outcome: result.outcome))
                    }
                    try await Self.finish(&state, on: connection, logger: logger)
                    // A deletion that committed while this transaction waited for its locks is seen now (each statement
                    // reads the latest commits): start again, and the first check will skip those instances.
                    let written = state.written.map { batch[$0] }
                    if !written.isEmpty, !(try await Self.tombstoned(written, orQueued: false, on: connection, logger: logger)).isEmpty {
                        throw ConcurrentDeletion()
                    }
                    return results.compactMap { $0 }
                }
            } catch is ConcurrentDeletion where attempt < 5 {
                logger.debug("An instance of the batch was deleted meanwhile; writing the batch again")
            }
        }
    }

    /// The positions in `instances` of those a tombstone covers: the blob belonged to a deleted instance, or the
    /// instance was deleted after this copy was ingested. With `orQueued`, also those whose blob waits in the deletion
    /// queue: a copy that lost or was deleted earlier (its event replays before the reaper came by), never to be
    /// pointed at again. (A queued row being drained is still seen until the drain commits; once it has, the blob is
    /// gone and `blobExists` says so.)
    private static func tombstoned(_ instances: [StoredInstance], orQueued: Bool, on connection: PostgresConnection,
                                   logger: Logger) async throws -> Set<Int> {
        let ids = instances.map { $0.summary.identifiers.instancePublicID.value }
        let blobs = instances.map { $0.fileUUID.value }
        let orders = instances.map { $0.fileUUID.timestampMilliseconds }
        var found: Set<Int> = []
        for try await position in try await connection.query("""
            SELECT (e.n - 1)::BIGINT FROM UNNEST(\(ids)::text[], \(blobs)::text[], \(orders)::bigint[]) WITH ORDINALITY AS e(id, blob, ms, n)
            WHERE EXISTS (SELECT 1 FROM instance_tombstones t WHERE t.file_uuid = e.blob)
               OR EXISTS (SELECT 1 FROM instance_tombstones t WHERE t.public_id = e.id AND (t.ingest_ms, t.file_uuid) >= (e.ms, e.blob))
               OR (\(orQueued) AND EXISTS (SELECT 1 FROM pending_blob_deletions p WHERE p.file_uuid = e.blob))
            """, logger: logger).decode(Int64.self) {
            found.insert(Int(position))
        }
        return found
    }

    struct ConcurrentDeletion: Error {}

    /// What one batch has learnt so far: parent rows already upserted (per level: public IDs of different levels
    /// may be equal, e.g. a PatientID "X|1.2" and the study of PatientID "X" and StudyInstanceUID "1.2"), rows to mark
    /// as updated, changes to log, instances to announce, blobs left unreferenced.
    struct BatchState {
        var keys: [ResourceLevel: [PublicID: Int64]] = [:]
        var touched: [ResourceLevel: Set<Int64>] = [:]
        var changes: [(ChangeType, ResourceLevel, PublicID)] = []
        /// Announcements (``announcement(blob:outcome:)``) of every copy in the batch.
        var notifications: [String] = []
        var orphans: Set<String> = []
        /// Batch positions whose instance row this transaction inserted or replaced.
        var written: [Int] = []
    }

    private static func write(_ instance: StoredInstance, on connection: PostgresConnection, state: inout BatchState,
                              blobExists: @Sendable (BlobID) -> Bool, logger: Logger) async throws -> IndexedInstance {
        let summary = instance.summary
        let ids = summary.identifiers
        let publicID = ids.instancePublicID
        var existing: (blob: String, order: Int64, origin: String?)?
        for try await (uuid, order, origin) in try await connection.query(
            "SELECT file_uuid, ingest_ms, origin FROM instances WHERE public_id = \(publicID.value) FOR UPDATE", logger: logger)
            .decode((String, Int64, String?).self) {
            existing = (uuid, order, origin)
        }
        if let existing {
            if existing.blob == instance.fileUUID.value {
                if existing.origin == StoredInstance.reconciledOrigin, instance.origin != StoredInstance.reconciledOrigin {
                    // The reconciler indexed this blob from its file while its event was still on its way: the event
                    // knows where the instance came from.
                    try await connection.query("""
                        UPDATE instances SET origin = \(instance.origin), remote_aet = \(instance.remoteAET),
                               called_aet = \(instance.calledAET), remote_ip = \(instance.remoteIP),
                               reception_date = \(instance.receptionDate), http_username = \(instance.httpUsername)
                        WHERE public_id = \(publicID.value)
                        """, logger: logger)
                }
                try await recordProvenance(instance, on: connection, logger: logger)
                return IndexedInstance(publicID: publicID, outcome: .unchanged)  // a replayed event
            }
            let current = IngestOrder(milliseconds: existing.order, blob: existing.blob)
            guard instance.overwrite, current < instance.fileUUID.ingestOrder else {
                // The first copy wins (OverwriteInstances: false), or this copy is older than the indexed one; sent
                // again through a datashare, the instance still joins it.
                try await recordProvenance(instance, on: connection, logger: logger)
                state.orphans.insert(instance.fileUUID.value)
                return IndexedInstance(publicID: publicID, outcome: .alreadyStored)
            }
            guard blobExists(instance.fileUUID) else { return IndexedInstance(publicID: publicID, outcome: .missingBlob) }
            let seriesKey = try await replace(instance, on: connection, logger: logger)
            try await recordProvenance(instance, on: connection, logger: logger)
            state.orphans.insert(existing.blob)
            if let seriesKey { try await touchAncestors(ofSeries: seriesKey, on: connection, state: &state, logger: logger) }
            return IndexedInstance(publicID: publicID, outcome: .replaced)
        }
        guard blobExists(instance.fileUUID) else { return IndexedInstance(publicID: publicID, outcome: .missingBlob) }
        var pending: [(ChangeType, ResourceLevel, PublicID)] = []
        let patientPK = try await parent(.patient, ids.patientPublicID, state: &state, pending: &pending) {
            try await connection.query("""
                INSERT INTO patients (public_id, patient_id, main_tags)
                VALUES (\(ids.patientPublicID.value), \(ids.patientID), \(try json(summary.patientTags))::jsonb)
                ON CONFLICT (public_id) DO UPDATE SET public_id = EXCLUDED.public_id
                RETURNING pk, (xmax = 0)
                """, logger: logger)
        }
        let studyPK = try await parent(.study, ids.studyPublicID, state: &state, pending: &pending) {
            try await connection.query("""
                INSERT INTO studies (public_id, patient_pk, study_instance_uid, main_tags, patient_tags)
                VALUES (\(ids.studyPublicID.value), \(patientPK), \(ids.studyInstanceUID), \(try json(summary.studyTags))::jsonb,
                        \(try json(summary.patientTags))::jsonb)
                ON CONFLICT (public_id) DO UPDATE SET public_id = EXCLUDED.public_id
                RETURNING pk, (xmax = 0)
                """, logger: logger)
        }
        let expected = ExpectedInstances.compute(seriesTags: summary.seriesTags).flatMap { Int32(exactly: $0) }
        let seriesPK = try await parent(.series, ids.seriesPublicID, state: &state, pending: &pending) {
            try await connection.query("""
                INSERT INTO series (public_id, study_pk, series_instance_uid, main_tags, expected_instances)
                VALUES (\(ids.seriesPublicID.value), \(studyPK), \(ids.seriesInstanceUID), \(try json(summary.seriesTags))::jsonb, \(expected))
                ON CONFLICT (public_id) DO UPDATE SET public_id = EXCLUDED.public_id
                RETURNING pk, (xmax = 0)
                """, logger: logger)
        }
        let indexInSeries = summary.indexInSeries.flatMap { Int32(exactly: $0) }
        var inserted = false
        for try await _ in try await connection.query("""
            INSERT INTO instances (public_id, series_pk, sop_instance_uid, main_tags, file_uuid, file_size, file_md5, ingest_ms,
                                   index_in_series, sop_class_uid, transfer_syntax_uid, origin, remote_aet, called_aet, remote_ip,
                                   reception_date, http_username)
            VALUES (\(publicID.value), \(seriesPK), \(ids.sopInstanceUID), \(try json(summary.instanceTags))::jsonb,
                    \(instance.fileUUID.value), \(Int64(instance.fileSize)), \(instance.fileMD5),
                    \(instance.fileUUID.timestampMilliseconds), \(indexInSeries), \(summary.sopClassUID),
                    \(summary.transferSyntaxUID), \(instance.origin), \(instance.remoteAET), \(instance.calledAET),
                    \(instance.remoteIP), \(instance.receptionDate), \(instance.httpUsername))
            ON CONFLICT (public_id) DO NOTHING
            RETURNING pk
            """, logger: logger).decode(Int64.self) {
            inserted = true
        }
        guard inserted else {
            // Another writer indexed this instance since the lookup above (its commit is visible now): decide again.
            return try await write(instance, on: connection, state: &state, blobExists: blobExists, logger: logger)
        }
        try await recordProvenance(instance, on: connection, logger: logger)
        // Orthanc logs the instance first, then the resources it created, deepest first.
        state.changes.append((.newInstance, .instance, publicID))
        state.changes.append(contentsOf: pending.reversed())
        state.touched[.patient, default: []].insert(patientPK)
        state.touched[.study, default: []].insert(studyPK)
        state.touched[.series, default: []].insert(seriesPK)
        return IndexedInstance(publicID: publicID, outcome: .indexed)
    }

    /// The datashare an instance came through and the resources a modification made it from.
    static func recordProvenance(_ instance: StoredInstance, on connection: PostgresConnection, logger: Logger) async throws {
        try await recordDatashare(instance, on: connection, logger: logger)
        try await recordModifiedFrom(instance, on: connection, logger: logger)
    }

    /// Orthanc's `ModifiedFrom` (or `AnonymizedFrom`) metadata on the new instance and on each new ancestor a modification made.
    private static func recordModifiedFrom(_ instance: StoredInstance, on connection: PostgresConnection, logger: Logger) async throws {
        guard let origin = instance.modifiedFrom else { return }
        let ids = instance.summary.identifiers
        let code = Int32(origin.anonymized == true ? MetadataName.anonymizedFrom.code : MetadataName.modifiedFrom.code)
        let entries: [(String, String, String?)] = [
            ("instances", ids.instancePublicID.value, origin.instance), ("series", ids.seriesPublicID.value, origin.series),
            ("studies", ids.studyPublicID.value, origin.study), ("patients", ids.patientPublicID.value, origin.patient),
        ]
        for (table, publicID, original) in entries {
            guard let original else { continue }
            try await connection.query(PostgresQuery(unsafeSQL: """
                INSERT INTO \(table)_metadata (resource_pk, code, value)
                SELECT pk, $1, convert_to($2, 'UTF8') FROM \(table) WHERE public_id = $3
                ON CONFLICT (resource_pk, code) DO UPDATE SET value = EXCLUDED.value
                """, binds: try Self.binds(code, original, publicID)), logger: logger)
        }
    }

    private static func binds(_ code: Int32, _ value: String, _ publicID: String) throws -> PostgresBindings {
        var binds = PostgresBindings()
        binds.append(code)
        binds.append(value)
        binds.append(publicID)
        return binds
    }

    /// An instance received through a datashare of the edge receiver carries it: the datashare's label on the instance
    /// and its ancestors (so that `/tools/find` with `Labels` finds it at any level), and its `Datashare` metadata.
    private static func recordDatashare(_ instance: StoredInstance, on connection: PostgresConnection, logger: Logger) async throws {
        guard let datashare = instance.datashare, LabelName.isValid(datashare) else { return }
        let ids = instance.summary.identifiers
        try await connection.query("""
            WITH patient AS (INSERT INTO patients_labels (resource_pk, label)
                             SELECT pk, \(datashare) FROM patients WHERE public_id = \(ids.patientPublicID.value) ON CONFLICT DO NOTHING),
                 study AS (INSERT INTO studies_labels (resource_pk, label)
                           SELECT pk, \(datashare) FROM studies WHERE public_id = \(ids.studyPublicID.value) ON CONFLICT DO NOTHING),
                 series AS (INSERT INTO series_labels (resource_pk, label)
                            SELECT pk, \(datashare) FROM series WHERE public_id = \(ids.seriesPublicID.value) ON CONFLICT DO NOTHING),
                 labeled AS (INSERT INTO instances_labels (resource_pk, label)
                             SELECT pk, \(datashare) FROM instances WHERE public_id = \(ids.instancePublicID.value) ON CONFLICT DO NOTHING)
            INSERT INTO instances_metadata (resource_pk, code, value)
            SELECT pk, \(Int32(MetadataName.datashare.code)), convert_to(\(datashare), 'UTF8') FROM instances
            WHERE public_id = \(ids.instancePublicID.value)
            ON CONFLICT (resource_pk, code) DO UPDATE SET value = EXCLUDED.value
            """, logger: logger)
    }

    /// Points an indexed instance at a newer copy; returns its series' row key.
    private static func replace(_ instance: StoredInstance, on connection: PostgresConnection, logger: Logger) async throws -> Int64? {
        let summary = instance.summary
        let indexInSeries = summary.indexInSeries.flatMap { Int32(exactly: $0) }
        for try await key in try await connection.query("""
            UPDATE instances SET main_tags = \(try json(summary.instanceTags))::jsonb, file_uuid = \(instance.fileUUID.value),
                   file_size = \(Int64(instance.fileSize)), file_md5 = \(instance.fileMD5),
                   ingest_ms = \(instance.fileUUID.timestampMilliseconds), index_in_series = \(indexInSeries),
                   sop_class_uid = \(summary.sopClassUID), transfer_syntax_uid = \(summary.transferSyntaxUID),
                   origin = \(instance.origin), remote_aet = \(instance.remoteAET), called_aet = \(instance.calledAET),
                   remote_ip = \(instance.remoteIP), reception_date = \(instance.receptionDate), http_username = \(instance.httpUsername)
            WHERE public_id = \(summary.identifiers.instancePublicID.value)
            RETURNING series_pk
            """, logger: logger).decode(Int64.self) {
            return key
        }
        return nil
    }

    private static func touchAncestors(ofSeries key: Int64, on connection: PostgresConnection, state: inout BatchState,
                                       logger: Logger) async throws {
        for try await (study, patient) in try await connection.query("""
            SELECT st.pk, st.patient_pk FROM series se JOIN studies st ON st.pk = se.study_pk WHERE se.pk = \(key)
            """, logger: logger).decode((Int64, Int64).self) {
            state.touched[.series, default: []].insert(key)
            state.touched[.study, default: []].insert(study)
            state.touched[.patient, default: []].insert(patient)
        }
    }

    /// The key of a parent row, upserting it the first time the batch meets it; a row it created adds a `New...` change.
    private static func parent(_ level: ResourceLevel, _ id: PublicID, state: inout BatchState,
                               pending: inout [(ChangeType, ResourceLevel, PublicID)],
                               upsert: () async throws -> PostgresRowSequence) async throws -> Int64 {
        if let known = state.keys[level]?[id] { return known }
        for try await (key, created) in try await upsert().decode((Int64, Bool).self) {
            state.keys[level, default: [:]][id] = key
            if created { pending.append((.new(level), level, id)) }
            return key
        }
        throw TesseraError(.database, message: "The index returned no row key")
    }

    /// Marks the parents of new instances as updated (and not stable), appends the change log, queues the blobs left
    /// unreferenced and announces the new instances. The change log lock makes `seq` order equal commit order across
    /// concurrent writers.
    private static func finish(_ state: inout BatchState, on connection: PostgresConnection, logger: Logger) async throws {
        for (level, table) in [(ResourceLevel.patient, "patients"), (.study, "studies"), (.series, "series")] {
            guard let keys = state.touched[level], !keys.isEmpty else { continue }
            var bindings = PostgresBindings(capacity: 1)
            bindings.append(Array(keys))
            // A patient that received a new instance is the last to be recycled, unless it is protected (NULL).
            let recycling = level == .patient
                ? ", recycling_seq = CASE WHEN recycling_seq IS NULL THEN NULL ELSE nextval('patient_recycling_order') END" : ""
            try await connection.query(PostgresQuery(
                unsafeSQL: "UPDATE \(table) SET last_update = now(), is_stable = false\(recycling) WHERE pk = ANY($1)", binds: bindings),
                logger: logger)
        }
        if !state.changes.isEmpty {
            try await appendChanges(state.changes, on: connection, logger: logger)
        }
        if !state.orphans.isEmpty {
            try await BlobDeletionQueue.enqueue(Array(state.orphans), on: connection, logger: logger)
        }
        if !state.notifications.isEmpty {
            try await connection.query(
                "SELECT pg_notify(\(notificationChannel), id) FROM UNNEST(\(state.notifications)::text[]) AS id", logger: logger)
        }
    }

    /// Appends change rows in the given order, under the change log lock (held until commit).
    static func appendChanges(_ changes: [(ChangeType, ResourceLevel, PublicID)], on connection: PostgresConnection,
                              logger: Logger) async throws {
        try await connection.query("SELECT pg_advisory_xact_lock(\(ChangeLog.lockKey))", logger: logger)
        let types = changes.map { Int16($0.0.rawValue) }
        let levels = changes.map { $0.1.code }
        let ids = changes.map { $0.2.value }
        try await connection.query("""
            INSERT INTO changes (change_type, resource_level, public_id)
            SELECT t, l, i FROM UNNEST(\(types)::smallint[], \(levels)::smallint[], \(ids)::text[]) WITH ORDINALITY AS c(t, l, i, n)
            ORDER BY n
            """, logger: logger)
    }

    static func json(_ tags: [String: String]) throws -> String {
        String(decoding: try encoder.encode(tags), as: UTF8.self)
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()
}
