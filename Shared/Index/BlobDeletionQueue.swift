import Logging
import Model
import PostgresNIO

/// Blobs waiting to be removed from storage (`pending_blob_deletions`): those of deleted instances and attachments,
/// and copies the indexer left unreferenced. Rows are claimed with `FOR UPDATE SKIP LOCKED`, so any number of
/// replicas can drain the queue together; a blob that a row points at again is never handed out, only its queue row is
/// dropped. A crash between the removal of a file and the commit leaves the row, and the next drain removes the
/// (already missing) file again.
public struct BlobDeletionQueue: Sendable {
    let database: IndexDatabase

    public init(database: IndexDatabase) {
        self.database = database
    }

    /// Queues blobs for removal inside the caller's transaction.
    static func enqueue(_ blobs: [String], on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("""
            INSERT INTO pending_blob_deletions (file_uuid) SELECT UNNEST(\(blobs)::text[]) ON CONFLICT DO NOTHING
            """, logger: logger)
    }

    /// Claims up to `batchSize` queued blobs, calls `remove` for each one no instance or attachment references, and
    /// drops the claimed rows in the same transaction. Returns how many rows were claimed and how many blobs removed.
    /// A queued name that is not a blob ID (which only a forged row could hold) is dropped without touching storage.
    public func drain(batchSize: Int = 500,
                      remove: @escaping @Sendable (BlobID) async throws -> Void) async throws -> (claimed: Int, removed: Int) {
        let logger = database.logger
        return try await database.withTransaction { connection in
            var claimed: [(String, Bool)] = []
            for try await (uuid, referenced) in try await connection.query("""
                SELECT p.file_uuid, EXISTS (SELECT 1 FROM instances i WHERE i.file_uuid = p.file_uuid)
                    OR EXISTS (SELECT 1 FROM patients_attachments a WHERE a.uuid = p.file_uuid)
                    OR EXISTS (SELECT 1 FROM studies_attachments a WHERE a.uuid = p.file_uuid)
                    OR EXISTS (SELECT 1 FROM series_attachments a WHERE a.uuid = p.file_uuid)
                    OR EXISTS (SELECT 1 FROM instances_attachments a WHERE a.uuid = p.file_uuid)
                FROM pending_blob_deletions p ORDER BY p.enqueued_at LIMIT \(batchSize) FOR UPDATE SKIP LOCKED
                """, logger: logger).decode((String, Bool).self) {
                claimed.append((uuid, referenced))
            }
            var removed = 0
            for (uuid, referenced) in claimed where !referenced {
                guard let id = BlobID(validating: uuid) else {
                    logger.warning("Dropping a queued blob removal that names no blob", metadata: ["name": "\(uuid.prefix(80))"])
                    continue
                }
                try await remove(id)
                removed += 1
            }
            if !claimed.isEmpty {
                let names = claimed.map(\.0)
                try await connection.query("DELETE FROM pending_blob_deletions WHERE file_uuid = ANY(\(names)::text[])", logger: logger)
            }
            return (claimed.count, removed)
        }
    }

    /// Number of blobs still queued.
    public func count() async throws -> Int {
        for row in try await database.query("SELECT COUNT(*) FROM pending_blob_deletions") {
            return Int(try row.decode(Int64.self))
        }
        return 0
    }
}
