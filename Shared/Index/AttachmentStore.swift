import Logging
import Model
import PostgresNIO

/// User attachments of resources (content types 1024-65535), written by the REST API. A replaced or removed
/// attachment's blob is queued in `pending_blob_deletions` in the same transaction; each change logs
/// `UpdatedAttachment`.
public struct AttachmentStore: Sendable {
    let database: IndexDatabase
    let logger: Logger

    public init(database: IndexDatabase) {
        self.database = database
        self.logger = database.logger
    }

    /// The user attachments of a resource, in the order first attached; nil when the resource is unknown.
    public func list(_ level: ResourceLevel, _ id: PublicID) async throws -> [AttachmentRecord]? {
        let table = LevelTable.of(level).table
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(id.value)
        var found = false
        var records: [AttachmentRecord] = []
        for try await (type, uuid, size, md5, compressedSize, compressedMD5, compressed, revision) in try await database.query(PostgresQuery(unsafeSQL: """
            SELECT a.content_type, a.uuid, a.uncompressed_size, a.uncompressed_md5, a.compressed_size, a.compressed_md5, a.is_compressed,
                   a.revision
            FROM \(table) r LEFT JOIN \(table)_attachments a ON a.resource_pk = r.pk WHERE r.public_id = $1 ORDER BY a.seq
            """, binds: bindings), logger: logger).decode((Int32?, String?, Int64?, String?, Int64?, String?, Bool?, Int64?).self) {
            found = true
            if let type, let uuid, let size, let md5, let compressedSize, let compressedMD5, let compressed, let revision {
                records.append(AttachmentRecord(contentType: Int(type), uuid: try BlobID.stored(uuid), uncompressedSize: size, uncompressedMD5: md5,
                                                compressedSize: compressedSize, compressedMD5: compressedMD5, isCompressed: compressed,
                                                revision: revision))
            }
        }
        return found ? records : nil
    }

    /// Stores (or replaces) an attachment whose blob was reserved with ``BlobDeletionQueue/reserve(_:for:)`` before
    /// it was written, if `check` allows replacing what is stored (else throws Orthanc's revision error, and the new
    /// blob is removed); returns the attachment's revision (0 when new, the replaced one's + 1), nil when the resource
    /// is unknown (the new blob is then removed). The blob is taken off the deletion queue in the same transaction.
    public func put(_ level: ResourceLevel, _ id: PublicID, _ record: AttachmentRecord,
                    check: RevisionCheck = .none) async throws -> Int64? {
        let table = LevelTable.of(level).table
        let logger = self.logger
        let outcome = try await database.withTransaction { connection -> Result<Int64?, TesseraError> in
            var bindings = PostgresBindings(capacity: 9)
            bindings.append(id.value)
            bindings.append(Int32(record.contentType))
            var found: (uuid: String?, tag: EntityTag?)?
            for try await (old, md5, revision) in try await connection.query(PostgresQuery(unsafeSQL: """
                SELECT a.uuid, a.uncompressed_md5, a.revision
                FROM \(table) r LEFT JOIN \(table)_attachments a ON a.resource_pk = r.pk AND a.content_type = $2
                WHERE r.public_id = $1 FOR NO KEY UPDATE OF r
                """, binds: bindings), logger: logger).decode((String?, String?, Int64?).self) {
                found = (old, revision.map { EntityTag(revision: $0, md5: md5 ?? "") })
            }
            guard let found else {
                // Unknown resource: the reserved blob may go at once.
                try await connection.query(
                    "UPDATE pending_blob_deletions SET not_before = now() WHERE file_uuid = \(record.uuid.value)", logger: logger)
                return .success(nil)
            }
            do throws(TesseraError) {
                try check.verify(found.tag)
            } catch {
                // Refused: the new blob may go at once too.
                try await connection.query(
                    "UPDATE pending_blob_deletions SET not_before = now() WHERE file_uuid = \(record.uuid.value)", logger: logger)
                return .failure(error)
            }
            let previous = found.uuid
            let revision = found.tag.map { $0.revision + 1 } ?? 0
            guard try await BlobDeletionQueue.claim(record.uuid, on: connection, logger: logger) else {
                throw TesseraError(.internalError, details: "The attachment's file was removed before it could be recorded")
            }
            bindings.append(record.uuid.value)
            bindings.append(record.uncompressedSize)
            bindings.append(record.uncompressedMD5)
            bindings.append(record.compressedSize)
            bindings.append(record.compressedMD5)
            bindings.append(record.isCompressed)
            bindings.append(revision)
            try await connection.query(PostgresQuery(unsafeSQL: """
                INSERT INTO \(table)_attachments (resource_pk, content_type, uuid, uncompressed_size, uncompressed_md5,
                                                  compressed_size, compressed_md5, is_compressed, revision)
                SELECT pk, $2, $3, $4, $5, $6, $7, $8, $9 FROM \(table) WHERE public_id = $1
                ON CONFLICT (resource_pk, content_type) DO UPDATE SET uuid = EXCLUDED.uuid,
                    uncompressed_size = EXCLUDED.uncompressed_size, uncompressed_md5 = EXCLUDED.uncompressed_md5,
                    compressed_size = EXCLUDED.compressed_size, compressed_md5 = EXCLUDED.compressed_md5,
                    is_compressed = EXCLUDED.is_compressed, revision = EXCLUDED.revision
                """, binds: bindings), logger: logger)
            if let old = previous { try await BlobDeletionQueue.enqueue([old], on: connection, logger: logger) }
            try await InstanceWriter.appendChanges([(.updatedAttachment, level, id)], on: connection, logger: logger)
            return .success(revision)
        }
        return try outcome.get()
    }

    /// Removes an attachment if `check` allows it (else throws Orthanc's revision error); returns whether it existed
    /// (nil when the resource is unknown).
    public func remove(_ level: ResourceLevel, _ id: PublicID, contentType: Int, check: RevisionCheck = .none) async throws -> Bool? {
        let table = LevelTable.of(level).table
        let logger = self.logger
        return try await database.withTransaction { connection -> Bool? in
            var bindings = PostgresBindings(capacity: 2)
            bindings.append(id.value)
            bindings.append(Int32(contentType))
            var found: (key: Int64, uuid: String?, tag: EntityTag?)?
            for try await (key, uuid, md5, revision) in try await connection.query(PostgresQuery(unsafeSQL: """
                SELECT r.pk, a.uuid, a.uncompressed_md5, a.revision
                FROM \(table) r LEFT JOIN \(table)_attachments a ON a.resource_pk = r.pk AND a.content_type = $2
                WHERE r.public_id = $1 FOR NO KEY UPDATE OF r
                """, binds: bindings), logger: logger).decode((Int64, String?, String?, Int64?).self) {
                found = (key, uuid, revision.map { EntityTag(revision: $0, md5: md5 ?? "") })
            }
            guard let found else { return nil }
            guard let uuid = found.uuid else { return false }
            try check.verify(found.tag)
            var keys = PostgresBindings(capacity: 2)
            keys.append(found.key)
            keys.append(Int32(contentType))
            try await connection.query(PostgresQuery(
                unsafeSQL: "DELETE FROM \(table)_attachments WHERE resource_pk = $1 AND content_type = $2", binds: keys), logger: logger)
            try await BlobDeletionQueue.enqueue([uuid], on: connection, logger: logger)
            try await InstanceWriter.appendChanges([(.updatedAttachment, level, id)], on: connection, logger: logger)
            return true
        }
    }
}
