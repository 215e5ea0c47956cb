import Foundation
import Logging
import Model
import PostgresNIO

/// Writes stored instances into the index: the patient, study and series rows they need, the instance row, and
/// the change log (`NewInstance`, `NewSeries`, `NewStudy`, `NewPatient`, in Orthanc's order). Idempotent (keyed
/// by public ID), so replaying an event changes nothing. The only writer of resource rows.
public struct InstanceWriter: Sendable {
    let client: PostgresClient
    let logger: Logger

    /// The channel on which each newly indexed instance's public ID is announced at commit.
    public static let notificationChannel = "tessera_instance_indexed"

    public init(database: IndexDatabase) {
        self.client = database.client
        self.logger = database.logger
    }

    /// Indexes a batch in one transaction. Rows are locked in a fixed order (by public ID), so concurrent
    /// indexers do not deadlock.
    public func write(_ batch: [StoredInstance]) async throws -> [IndexedInstance] {
        guard !batch.isEmpty else { return [] }
        let ordered = batch.sorted { lhs, rhs in
            let l = lhs.summary.identifiers, r = rhs.summary.identifiers
            return (l.patientPublicID, l.studyPublicID, l.seriesPublicID, l.instancePublicID)
                < (r.patientPublicID, r.studyPublicID, r.seriesPublicID, r.instancePublicID)
        }
        let logger = self.logger
        return try await client.withTransaction(logger: logger) { connection in
            var state = BatchState()
            var results: [IndexedInstance] = []
            results.reserveCapacity(ordered.count)
            for instance in ordered {
                results.append(try await Self.write(instance, on: connection, state: &state, logger: logger))
            }
            try await Self.finish(state, on: connection, logger: logger)
            return results
        }
    }

    /// What one batch has learnt so far: parent rows already upserted, rows to mark as updated, changes to log.
    struct BatchState {
        var keys: [PublicID: Int64] = [:]
        var touched: [ResourceLevel: Set<Int64>] = [:]
        var changes: [(ChangeType, ResourceLevel, PublicID)] = []
        var notifications: [String] = []
    }

    private static func write(_ instance: StoredInstance, on connection: PostgresConnection, state: inout BatchState,
                              logger: Logger) async throws -> IndexedInstance {
        let summary = instance.summary
        let ids = summary.identifiers
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
        let publicID = ids.instancePublicID
        let indexInSeries = summary.indexInSeries.flatMap { Int32(exactly: $0) }
        var inserted = false
        for try await _ in try await connection.query("""
            INSERT INTO instances (public_id, series_pk, sop_instance_uid, main_tags, file_uuid, file_size, index_in_series,
                                   sop_class_uid, transfer_syntax_uid, origin, remote_aet, called_aet, remote_ip, reception_date,
                                   http_username)
            VALUES (\(publicID.value), \(seriesPK), \(ids.sopInstanceUID), \(try json(summary.instanceTags))::jsonb,
                    \(instance.fileUUID), \(Int64(instance.fileSize)), \(indexInSeries), \(summary.sopClassUID),
                    \(summary.transferSyntaxUID), \(instance.origin), \(instance.remoteAET), \(instance.calledAET),
                    \(instance.remoteIP), \(instance.receptionDate), \(instance.httpUsername))
            ON CONFLICT (public_id) DO NOTHING
            RETURNING pk
            """, logger: logger).decode(Int64.self) {
            inserted = true
        }
        if inserted {
            // Orthanc logs the instance first, then the resources it created, deepest first.
            state.changes.append((.newInstance, .instance, publicID))
            state.changes.append(contentsOf: pending.reversed())
            state.touched[.patient, default: []].insert(patientPK)
            state.touched[.study, default: []].insert(studyPK)
            state.touched[.series, default: []].insert(seriesPK)
            state.notifications.append(publicID.value)
            return IndexedInstance(publicID: publicID, isNew: true, orphanedBlob: nil)
        }
        var existingBlob: String?
        for try await uuid in try await connection.query(
            "SELECT file_uuid FROM instances WHERE public_id = \(publicID.value) FOR UPDATE", logger: logger).decode(String.self) {
            existingBlob = uuid
        }
        if existingBlob == instance.fileUUID {
            return IndexedInstance(publicID: publicID, isNew: false, orphanedBlob: nil)  // a replayed event
        }
        guard instance.overwrite else {
            // The first copy wins (OverwriteInstances: false); the new blob is referenced by nothing.
            return IndexedInstance(publicID: publicID, isNew: false, orphanedBlob: instance.fileUUID)
        }
        try await connection.query("""
            UPDATE instances SET main_tags = \(try json(summary.instanceTags))::jsonb, file_uuid = \(instance.fileUUID),
                   file_size = \(Int64(instance.fileSize)), index_in_series = \(indexInSeries), sop_class_uid = \(summary.sopClassUID),
                   transfer_syntax_uid = \(summary.transferSyntaxUID), origin = \(instance.origin), remote_aet = \(instance.remoteAET),
                   called_aet = \(instance.calledAET), remote_ip = \(instance.remoteIP), reception_date = \(instance.receptionDate),
                   http_username = \(instance.httpUsername)
            WHERE public_id = \(publicID.value)
            """, logger: logger)
        state.touched[.patient, default: []].insert(patientPK)
        state.touched[.study, default: []].insert(studyPK)
        state.touched[.series, default: []].insert(seriesPK)
        state.notifications.append(publicID.value)
        return IndexedInstance(publicID: publicID, isNew: false, orphanedBlob: existingBlob)
    }

    /// The key of a parent row, upserting it the first time the batch meets it; a row it created adds a `New...` change.
    private static func parent(_ level: ResourceLevel, _ id: PublicID, state: inout BatchState,
                               pending: inout [(ChangeType, ResourceLevel, PublicID)],
                               upsert: () async throws -> PostgresRowSequence) async throws -> Int64 {
        if let known = state.keys[id] { return known }
        for try await (key, created) in try await upsert().decode((Int64, Bool).self) {
            state.keys[id] = key
            if created { pending.append((.new(level), level, id)) }
            return key
        }
        throw TesseraError(.database, message: "The index returned no row key")
    }

    /// Marks the parents of new instances as updated (and not stable), appends the change log and announces the
    /// new instances. The change log lock makes `seq` order equal commit order across concurrent writers.
    private static func finish(_ state: BatchState, on connection: PostgresConnection, logger: Logger) async throws {
        for (level, table) in [(ResourceLevel.patient, "patients"), (.study, "studies"), (.series, "series")] {
            guard let keys = state.touched[level], !keys.isEmpty else { continue }
            var bindings = PostgresBindings(capacity: 1)
            bindings.append(Array(keys))
            try await connection.query(PostgresQuery(
                unsafeSQL: "UPDATE \(table) SET last_update = now(), is_stable = false WHERE pk = ANY($1)", binds: bindings),
                logger: logger)
        }
        if !state.changes.isEmpty {
            try await appendChanges(state.changes, on: connection, logger: logger)
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
