import Foundation
import Logging
import Model
import PostgresNIO

/// Reads instances from the index.
public struct InstanceQueries: Sendable {
    let client: PostgresClient
    let logger: Logger

    public init(database: IndexDatabase) {
        self.client = database.client
        self.logger = database.logger
    }

    /// Public IDs of instances in index order, skipping `since` and returning at most `limit` (all when nil).
    public func listIDs(since: Int = 0, limit: Int? = nil) async throws -> [PublicID] {
        var ids: [PublicID] = []
        let query = PostgresQuery(unsafeSQL: "SELECT public_id FROM instances ORDER BY pk" + Self.page(since: since, limit: limit))
        for try await id in try await client.query(query, logger: logger).decode(String.self) {
            ids.append(PublicID(unchecked: id))
        }
        return ids
    }

    /// Instances in index order, as ``listIDs(since:limit:)``, with their details.
    public func list(since: Int = 0, limit: Int? = nil) async throws -> [InstanceRecord] {
        try await records(PostgresQuery(unsafeSQL: Self.selection + " ORDER BY i.pk" + Self.page(since: since, limit: limit)))
    }

    /// One instance, or nil when it is not indexed.
    public func instance(_ id: PublicID) async throws -> InstanceRecord? {
        try await records(PostgresQuery(unsafeSQL: Self.selection + " WHERE i.public_id = $1", binds: try binds(id.value))).first
    }

    private func binds(_ value: String) throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 1)
        try bindings.append(value)
        return bindings
    }

    /// `OFFSET n LIMIT m` from integers (never from text), so it is safe to splice into SQL.
    private static func page(since: Int, limit: Int?) -> String {
        " OFFSET \(max(0, since)) LIMIT " + (limit.map { String(max(0, $0)) } ?? "ALL")
    }

    private static let selection = """
        SELECT i.public_id, s.public_id, i.main_tags::text, i.file_uuid, i.file_size, i.index_in_series,
               i.sop_class_uid, i.transfer_syntax_uid, i.origin, i.remote_aet, i.called_aet, i.remote_ip, i.reception_date
        FROM instances i JOIN series s ON s.pk = i.series_pk
        """

    private func records(_ query: PostgresQuery) async throws -> [InstanceRecord] {
        var records: [InstanceRecord] = []
        let rows = try await client.query(query, logger: logger)
        for try await row in rows {
            let (id, series, tags, uuid, size, index, sopClass, syntax, origin, remoteAET, calledAET, remoteIP, received) =
                try row.decode((String, String, String, String, Int64, Int32?, String?, String?, String, String?, String?, String?, Date).self)
            records.append(InstanceRecord(
                publicID: PublicID(unchecked: id),
                parentSeries: PublicID(unchecked: series),
                mainTags: (try? JSONDecoder().decode([String: String].self, from: Data(tags.utf8))) ?? [:],
                fileUUID: uuid, fileSize: size, indexInSeries: index.map(Int.init),
                sopClassUID: sopClass, transferSyntaxUID: syntax, origin: origin,
                remoteAET: remoteAET, calledAET: calledAET, remoteIP: remoteIP, receptionDate: received))
        }
        return records
    }

    /// Number of indexed instances.
    public func count() async throws -> Int {
        for try await count in try await client.query("SELECT COUNT(*) FROM instances", logger: logger).decode(Int64.self) {
            return Int(count)
        }
        return 0
    }
}
