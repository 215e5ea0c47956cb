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

    /// Queues the removal of a blob about to be written, not before `delay` from now: the blob is removed then unless
    /// ``claim(_:on:logger:)`` took it off the queue in the transaction that made a row point at it. So a write that
    /// fails, or a process that dies between the blob and its row, leaves nothing behind.
    public func reserve(_ blob: BlobID, for delay: Duration = .seconds(3600)) async throws {
        let seconds = Double(delay.totalNanoseconds / 1_000_000) / 1000
        _ = try await database.query("""
            INSERT INTO pending_blob_deletions (file_uuid, not_before) VALUES (\(blob.value), now() + make_interval(secs => \(seconds)))
            ON CONFLICT (file_uuid) DO NOTHING
            """)
    }

    /// Takes a blob reserved by ``reserve(_:for:)`` off the queue, inside the transaction that makes a row point at
    /// it. False when it is no longer queued: the removal came first (the blob is gone), and the row must not be made.
    static func claim(_ blob: BlobID, on connection: PostgresConnection, logger: Logger) async throws -> Bool {
        for try await _ in try await connection.query(
            "DELETE FROM pending_blob_deletions WHERE file_uuid = \(blob.value) RETURNING file_uuid", logger: logger) {
            return true
        }
        return false
    }

    /// Whether a blob is queued for removal, locking its queue row until the caller's transaction ends so that no
    /// drain removes it meanwhile (a drain skips locked rows). A queued blob is one that lost, was deleted or was
    /// never claimed: no row may point at it again.
    static func isQueued(_ blob: BlobID, on connection: PostgresConnection, logger: Logger) async throws -> Bool {
        for try await _ in try await connection.query(
            "SELECT 1 FROM pending_blob_deletions WHERE file_uuid = \(blob.value) FOR SHARE", logger: logger) {
            return true
        }
        return false
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
                FROM pending_blob_deletions p WHERE p.not_before <= now()
                ORDER BY p.enqueued_at LIMIT \(batchSize) FOR UPDATE SKIP LOCKED
                """, logger: logger).decode((String, Bool).self) {
                claimed.append((uuid, referenced))
            }
            var removed = 0
            var failed: [String] = []
            for (uuid, referenced) in claimed where !referenced {
                guard let id = BlobID(validating: uuid) else {
                    logger.warning("Dropping a queued blob removal that names no blob", metadata: ["name": "\(uuid.prefix(80))"])
                    continue
                }
                do {
                    try await remove(id)
                    removed += 1
                } catch let error as TesseraError {
                    // Kept, and retried later: one file that cannot be removed must not hold up the queue behind it.
                    logger.warning("Could not remove a blob; will try again", metadata: ["blob": "\(id)", "error": "\(error)"])
                    failed.append(uuid)
                }
            }
            let done = claimed.map(\.0).filter { !failed.contains($0) }
            if !done.isEmpty {
                try await connection.query("DELETE FROM pending_blob_deletions WHERE file_uuid = ANY(\(done)::text[])", logger: logger)
            }
            if !failed.isEmpty {
                try await connection.query("""
                    UPDATE pending_blob_deletions SET not_before = now() + interval '10 minutes' WHERE file_uuid = ANY(\(failed)::text[])
                    """, logger: logger)
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
