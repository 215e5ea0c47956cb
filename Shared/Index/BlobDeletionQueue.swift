import Logging
import Model
import PostgresNIO

/// Blobs of deleted instances waiting to be removed from storage (`pending_blob_deletions`). Rows are claimed with
/// `FOR UPDATE SKIP LOCKED`, so any number of replicas can drain the queue together; a blob that an instance row
/// points at again is never handed out, only its queue row is dropped. A crash between the removal of a file and
/// the commit leaves the row, and the next drain removes the (already missing) file again.
public struct BlobDeletionQueue: Sendable {
    let client: PostgresClient
    let logger: Logger

    public init(database: IndexDatabase) {
        self.client = database.client
        self.logger = database.logger
    }

    /// Claims up to `batchSize` queued blobs, calls `remove` for each one no instance references, and drops the
    /// claimed rows in the same transaction. Returns how many rows were claimed and how many blobs removed.
    public func drain(batchSize: Int = 500,
                      remove: @escaping @Sendable (String) async throws -> Void) async throws -> (claimed: Int, removed: Int) {
        let logger = self.logger
        return try await client.withTransaction(logger: logger) { connection in
            var claimed: [(String, Bool)] = []
            for try await (uuid, referenced) in try await connection.query("""
                SELECT p.file_uuid, EXISTS (SELECT 1 FROM instances i WHERE i.file_uuid = p.file_uuid)
                FROM pending_blob_deletions p ORDER BY p.enqueued_at LIMIT \(batchSize) FOR UPDATE SKIP LOCKED
                """, logger: logger).decode((String, Bool).self) {
                claimed.append((uuid, referenced))
            }
            var removed = 0
            for (uuid, referenced) in claimed where !referenced {
                try await remove(uuid)
                removed += 1
            }
            if !claimed.isEmpty {
                var bindings = PostgresBindings(capacity: 1)
                bindings.append(claimed.map(\.0))
                try await connection.query(PostgresQuery(unsafeSQL: "DELETE FROM pending_blob_deletions WHERE file_uuid = ANY($1)",
                                                         binds: bindings), logger: logger)
            }
            return (claimed.count, removed)
        }
    }

    /// Number of blobs still queued.
    public func count() async throws -> Int {
        for try await count in try await client.query("SELECT COUNT(*) FROM pending_blob_deletions", logger: logger).decode(Int64.self) {
            return Int(count)
        }
        return 0
    }
}
