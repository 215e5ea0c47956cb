import Foundation
import Logging
import Model
import PostgresNIO

/// What the index knows of the blobs on storage, for the reconciler: which blobs nothing references, its scan state,
/// the tombstones to expire and the MD5s to fill in.
public struct BlobCatalog: Sendable {
    let database: IndexDatabase

    public init(database: IndexDatabase) {
        self.database = database
    }

    /// A blob no row references.
    public struct Unreferenced: Sendable, Hashable {
        public var blob: BlobID
        /// A deleted instance pointed at it (its removal did not complete): remove it, do not index it.
        public var tombstoned: Bool
    }

    /// Among `blobs`, those that no instance, attachment, queued removal or reconciler dead letter mentions.
    public func unreferenced(_ blobs: [BlobID]) async throws -> [Unreferenced] {
        guard !blobs.isEmpty else { return [] }
        let names = blobs.map(\.value)
        var found: [Unreferenced] = []
        for try await (name, tombstoned) in try await database.query("""
            SELECT u, EXISTS (SELECT 1 FROM instance_tombstones t WHERE t.file_uuid = u)
            FROM UNNEST(\(names)::text[]) AS u
            WHERE NOT EXISTS (SELECT 1 FROM instances i WHERE i.file_uuid = u)
              AND NOT EXISTS (SELECT 1 FROM patients_attachments a WHERE a.uuid = u)
              AND NOT EXISTS (SELECT 1 FROM studies_attachments a WHERE a.uuid = u)
              AND NOT EXISTS (SELECT 1 FROM series_attachments a WHERE a.uuid = u)
              AND NOT EXISTS (SELECT 1 FROM instances_attachments a WHERE a.uuid = u)
              AND NOT EXISTS (SELECT 1 FROM pending_blob_deletions p WHERE p.file_uuid = u)
              AND NOT EXISTS (SELECT 1 FROM dead_letters d WHERE d.file_uuid = u AND d.source = 'reconciler')
            """).decode((String, Bool).self) {
            if let blob = BlobID(validating: name) { found.append(Unreferenced(blob: blob, tombstoned: tombstoned)) }
        }
        return found
    }

    /// The reconciler's record: when the last completed scan started, and when the last full one did.
    public struct ScanState: Sendable, Hashable {
        public var lastScanStarted: Date?
        public var lastFullScan: Date?
    }

    public func scanState() async throws -> ScanState {
        for try await (started, full) in try await database.query(
            "SELECT last_scan_started, last_full_scan FROM reconciler_state WHERE id = 1").decode((Date?, Date?).self) {
            return ScanState(lastScanStarted: started, lastFullScan: full)
        }
        return ScanState(lastScanStarted: nil, lastFullScan: nil)
    }

    public func recordScan(started: Date, full: Bool) async throws {
        try await database.query("""
            UPDATE reconciler_state SET last_scan_started = \(started),
                last_full_scan = CASE WHEN \(full) THEN \(started) ELSE last_full_scan END
            WHERE id = 1
            """)
    }

    /// The database's clock (every replica reads the same one).
    public func now() async throws -> Date {
        for try await date in try await database.query("SELECT now()").decode(Date.self) { return date }
        return Date()
    }

    /// Removes tombstones older than `age`; returns how many.
    @discardableResult
    public func expireTombstones(olderThan age: Duration) async throws -> Int {
        let seconds = Double(age.components.seconds)
        var removed = 0
        for try await _ in try await database.query("""
            DELETE FROM instance_tombstones WHERE deleted_at < now() - make_interval(secs => \(seconds)) RETURNING 1
            """) {
            removed += 1
        }
        return removed
    }

    /// Instances indexed before MD5s were stored, up to `limit`.
    public func instancesWithoutMD5(limit: Int) async throws -> [(publicID: PublicID, blob: BlobID)] {
        var found: [(PublicID, BlobID)] = []
        for try await (id, uuid) in try await database.query(
            "SELECT public_id, file_uuid FROM instances WHERE file_md5 IS NULL LIMIT \(Int64(limit))").decode((String, String).self) {
            if let blob = BlobID(validating: uuid) { found.append((PublicID(unchecked: id), blob)) }
        }
        return found
    }

    /// Records the MD5 of an instance's file, unless it points at another blob by now.
    public func setMD5(_ md5: String, of id: PublicID, blob: BlobID) async throws {
        try await database.query("""
            UPDATE instances SET file_md5 = \(md5) WHERE public_id = \(id.value) AND file_uuid = \(blob.value) AND file_md5 IS NULL
            """)
    }

    /// Every indexed instance's blob and stored MD5, in pages (for the scrub).
    public func instanceFiles(after key: Int64, limit: Int) async throws -> [(key: Int64, publicID: PublicID, blob: BlobID, md5: String?)] {
        var found: [(Int64, PublicID, BlobID, String?)] = []
        for try await (pk, id, uuid, md5) in try await database.query("""
            SELECT pk, public_id, file_uuid, file_md5 FROM instances WHERE pk > \(key) ORDER BY pk LIMIT \(Int64(limit))
            """).decode((Int64, String, String, String?).self) {
            found.append((pk, PublicID(unchecked: id), try BlobID.stored(uuid), md5))
        }
        return found
    }

    /// Runs `body` while holding the reconciler's advisory lock (one replica scans at a time); returns nil without
    /// running it when another replica holds the lock.
    public func withScanLock<Result: Sendable>(_ body: () async throws -> Result) async throws -> Result? {
        let key = Self.lockKey
        return try await database.withConnection { connection -> Result? in
            var locked = false
            for try await acquired in try await connection.query("SELECT pg_try_advisory_lock(\(key))", logger: database.logger)
                .decode(Bool.self) {
                locked = acquired
            }
            guard locked else { return nil }
            do {
                let result = try await body()
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(key))", logger: database.logger)
                return result
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(key))", logger: database.logger)
                throw error
            }
        }
    }

    /// "RECONCIL" in ASCII.
    static let lockKey: Int64 = 0x5245_434F_4E43_494C
}
