import Foundation
import Logging
import Model
import PostgresNIO

/// The `dead_letters` table: what could not be indexed, with why. Adding is idempotent (a re-delivered poison event
/// or a blob met again by the next scan adds nothing), so a crash between the insert and the offset commit is harmless.
public struct DeadLetterStore: Sendable {
    let database: IndexDatabase

    public init(database: IndexDatabase) {
        self.database = database
    }

    /// A dead letter about to be recorded.
    public struct Entry: Sendable {
        public var source: DeadLetter.Source
        public var reason: String
        public var details: String?
        public var topic: String?
        public var partition: Int32?
        public var offset: Int64?
        public var blob: String?
        public var instance: String?
        public var payload: [UInt8]?

        public init(source: DeadLetter.Source, reason: String, details: String? = nil, topic: String? = nil,
                    partition: Int32? = nil, offset: Int64? = nil, blob: String? = nil, instance: String? = nil,
                    payload: [UInt8]? = nil) {
            self.source = source
            self.reason = reason
            self.details = details
            self.topic = topic
            self.partition = partition
            self.offset = offset
            self.blob = blob
            self.instance = instance
            self.payload = payload
        }

        /// What makes two records the same: the payload's digest for an event, the blob for the reconciler.
        var deduplicationKey: String {
            switch source {
            case .event:
                return "event:" + MD5Digest.hex(payload ?? []) + ":" + reason
            case .reconciler:
                return "blob:" + (blob ?? "") + ":" + reason
            }
        }
    }

    /// Records entries; returns how many were new.
    @discardableResult
    public func add(_ entries: [Entry]) async throws -> Int {
        guard !entries.isEmpty else { return 0 }
        var added = 0
        try await database.withTransaction { connection in
            for entry in entries {
                // Text columns cannot hold NUL or invalid UTF-8: keep what describes the failure readable.
                let details = entry.details.map { Self.printable($0, limit: 4000) }
                let payload = entry.payload.map { ByteBuffer(bytes: $0) }
                for try await _ in try await connection.query("""
                    INSERT INTO dead_letters (source, reason, details, topic, kafka_partition, kafka_offset, file_uuid,
                                              instance_public_id, payload, dedup_key)
                    VALUES (\(entry.source.rawValue), \(entry.reason), \(details), \(entry.topic.map { Self.printable($0, limit: 256) }),
                            \(entry.partition), \(entry.offset), \(entry.blob.map { Self.printable($0, limit: 64) }),
                            \(entry.instance.map { Self.printable($0, limit: 64) }), \(payload), \(entry.deduplicationKey))
                    ON CONFLICT (dedup_key) DO NOTHING
                    RETURNING id
                    """, logger: database.logger) {
                    added += 1
                }
            }
        }
        return added
    }

    /// Dead letters, oldest first, with `id > since`, at most `limit`.
    public func list(since: Int64 = 0, limit: Int = 100) async throws -> [DeadLetter] {
        var letters: [DeadLetter] = []
        for try await (id, created, source, reason, details, topic, partition, offset, blob, instance, size) in try await database.query("""
            SELECT id, created_at, source, reason, details, topic, kafka_partition, kafka_offset, file_uuid, instance_public_id,
                   COALESCE(octet_length(payload), 0)
            FROM dead_letters WHERE id > \(since) ORDER BY id LIMIT \(Int64(clamping: limit))
            """).decode((Int64, Date, String, String, String?, String?, Int32?, Int64?, String?, String?, Int32).self) {
            letters.append(DeadLetter(id: id, createdAt: created, source: DeadLetter.Source(rawValue: source) ?? .event,
                                      reason: reason, details: details, topic: topic, partition: partition, offset: offset,
                                      blob: blob, instance: instance, payloadSize: Int(size)))
        }
        return letters
    }

    /// The payload kept with a dead letter (nil when it has none or does not exist).
    public func payload(_ id: Int64) async throws -> [UInt8]? {
        for try await payload in try await database.query("SELECT payload FROM dead_letters WHERE id = \(id)")
            .decode(ByteBuffer?.self) {
            return payload.map { Array(buffer: $0) }
        }
        return nil
    }

    /// Removes a dead letter; returns whether it existed.
    public func remove(_ id: Int64) async throws -> Bool {
        for try await _ in try await database.query("DELETE FROM dead_letters WHERE id = \(id) RETURNING id") {
            return true
        }
        return false
    }

    /// How many dead letters there are.
    public func count() async throws -> Int {
        for try await count in try await database.query("SELECT COUNT(*) FROM dead_letters").decode(Int64.self) {
            return Int(count)
        }
        return 0
    }

    /// Whether the reconciler recorded a dead letter for this blob (it is then not tried again).
    public func hasReconcilerRecord(for blobs: [String]) async throws -> Set<String> {
        var found: Set<String> = []
        for try await blob in try await database.query("""
            SELECT DISTINCT file_uuid FROM dead_letters WHERE source = 'reconciler' AND file_uuid = ANY(\(blobs)::text[])
            """).decode(String.self) {
            found.insert(blob)
        }
        return found
    }

    static func printable(_ text: String, limit: Int) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.filter { $0 != "\0" }.prefix(limit)))
    }
}
