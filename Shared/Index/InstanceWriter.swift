import Foundation
import Logging
import Model
import PostgresNIO

/// Writes stored instances into the index: the patient, study and series rows they need, then the instance row.
/// Idempotent (keyed by public ID), so replaying an event changes nothing. The only writer of resource rows.
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
            var results: [IndexedInstance] = []
            results.reserveCapacity(ordered.count)
            for instance in ordered {
                results.append(try await Self.write(instance, on: connection, logger: logger))
            }
            return results
        }
    }

    private static func write(_ instance: StoredInstance, on connection: PostgresConnection, logger: Logger) async throws -> IndexedInstance {
        let summary = instance.summary
        let ids = summary.identifiers
        let patientTags = try json(summary.patientTags)
        let patientPK = try await singleKey(connection.query("""
            INSERT INTO patients (public_id, patient_id, main_tags) VALUES (\(ids.patientPublicID.value), \(ids.patientID), \(patientTags)::jsonb)
            ON CONFLICT (public_id) DO UPDATE SET last_update = now()
            RETURNING pk
            """, logger: logger))
        let studyTags = try json(summary.studyTags)
        let studyPK = try await singleKey(connection.query("""
            INSERT INTO studies (public_id, patient_pk, study_instance_uid, main_tags)
            VALUES (\(ids.studyPublicID.value), \(patientPK), \(ids.studyInstanceUID), \(studyTags)::jsonb)
            ON CONFLICT (public_id) DO UPDATE SET last_update = now()
            RETURNING pk
            """, logger: logger))
        let seriesTags = try json(summary.seriesTags)
        let seriesPK = try await singleKey(connection.query("""
            INSERT INTO series (public_id, study_pk, series_instance_uid, main_tags)
            VALUES (\(ids.seriesPublicID.value), \(studyPK), \(ids.seriesInstanceUID), \(seriesTags)::jsonb)
            ON CONFLICT (public_id) DO UPDATE SET last_update = now()
            RETURNING pk
            """, logger: logger))
        let instanceTags = try json(summary.instanceTags)
        let publicID = ids.instancePublicID
        let fileSize = Int64(instance.fileSize)
        let indexInSeries = summary.indexInSeries.flatMap { Int32(exactly: $0) }
        var inserted = false
        for try await _ in try await connection.query("""
            INSERT INTO instances (public_id, series_pk, sop_instance_uid, main_tags, file_uuid, file_size, index_in_series,
                                   sop_class_uid, transfer_syntax_uid, origin, remote_aet, called_aet, remote_ip, reception_date)
            VALUES (\(publicID.value), \(seriesPK), \(ids.sopInstanceUID), \(instanceTags)::jsonb, \(instance.fileUUID), \(fileSize),
                    \(indexInSeries), \(summary.sopClassUID), \(summary.transferSyntaxUID), \(instance.origin),
                    \(instance.remoteAET), \(instance.calledAET), \(instance.remoteIP), \(instance.receptionDate))
            ON CONFLICT (public_id) DO NOTHING
            RETURNING pk
            """, logger: logger).decode(Int64.self) {
            inserted = true
        }
        if inserted {
            try await connection.query("SELECT pg_notify(\(notificationChannel), \(publicID.value))", logger: logger)
            return IndexedInstance(publicID: publicID, isNew: true, orphanedBlob: nil)
        }
        var existingBlob: String?
        for try await uuid in try await connection.query(
            "SELECT file_uuid FROM instances WHERE public_id = \(publicID.value)", logger: logger).decode(String.self) {
            existingBlob = uuid
        }
        let orphan = existingBlob == instance.fileUUID ? nil : instance.fileUUID
        return IndexedInstance(publicID: publicID, isNew: false, orphanedBlob: orphan)
    }

    private static func singleKey(_ rows: PostgresRowSequence) async throws -> Int64 {
        for try await key in rows.decode(Int64.self) { return key }
        throw TesseraError(.database, message: "The index returned no row key")
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
