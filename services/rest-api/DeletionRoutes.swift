import Foundation
import Hummingbird
import Index
import Indexing
import Model

/// `DELETE /{level}/{id}` (with its now-childless ancestors), `POST /tools/bulk-delete`, `DELETE /changes`.
/// Blobs are removed by ``BlobReaper`` once the deletion has committed.
struct DeletionRoutes {
    let deleter: ResourceDeleter
    let resources: ResourceQueries
    let changes: ChangeLog
    let exports: ExportLog
    let reaper: BlobReaper
    var maximumBodySize = 16 << 20

    func add(to router: Router<APIRequestContext>) {
        for level in ResourceLevel.allCases {
            router.delete(RouterPath("/\(level.collection)/{id}")) { _, context in
                guard let id = context.publicID, let outcome = try await deleter.delete(level, id) else {
                    return Response(status: .notFound)
                }
                await reap(context)
                let remaining: JSONValue = outcome.remainingAncestor.map { level, id in
                    .object(["ID": .string(id.value), "Path": .string("/\(level.collection)/\(id.value)"), "Type": .string(level.rawValue)])
                } ?? .null
                return OrthancJSON.response(.object(["RemainingAncestor": remaining]))
            }
        }
        router.post("/tools/bulk-delete") { request, context in
            var request = request
            let buffer = try await request.collectBody(upTo: maximumBodySize)
            guard let body = try? JSONValue.parse(Data(buffer: buffer)), case .object = body else {
                throw TesseraError(.badRequest, details: "The body must contain a JSON object")
            }
            guard case .array(let items)? = body["Resources"], items.allSatisfy({ $0.stringValue != nil }) else {
                throw TesseraError(.badFileFormat, details: "List of strings expected in field: Resources")
            }
            // Unknown or malformed identifiers are skipped, as Orthanc does; a resource already gone with an
            // ancestor listed before it is skipped too.
            for id in items.compactMap({ $0.stringValue.flatMap(PublicID.init(validating:)) }) {
                if let level = try await resources.level(of: id) {
                    _ = try await deleter.delete(level, id)
                }
            }
            await reap(context)
            return MetadataRoutes.text("", etag: nil)
        }
        router.delete("/changes") { _, _ in
            try await changes.clear()
            return MetadataRoutes.text("", etag: nil)
        }
        router.delete("/exports") { _, _ in
            try await exports.clear()
            return MetadataRoutes.text("", etag: nil)
        }
    }

    /// Removes the blobs now; a failure is left to the background sweep.
    private func reap(_ context: APIRequestContext) async {
        do {
            try await reaper.sweep()
        } catch {
            context.logger.warning("Blob removal after a deletion failed; the background sweep will retry",
                                   metadata: ["error": "\(error)"])
        }
    }
}
