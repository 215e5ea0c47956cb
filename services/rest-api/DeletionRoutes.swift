import Foundation
import Hummingbird
import Index
import Model

/// `DELETE /{level}/{id}` (with its now-childless ancestors), `POST /tools/bulk-delete`, `DELETE /changes`.
/// Blobs are removed by ``BlobReaper`` once the deletion has committed.
struct DeletionRoutes {
    let deleter: ResourceDeleter
    let finder: ResourceFinder
    let resources: ResourceQueries
    let changes: ChangeLog
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
            let body = try JSONValue.parse(Data(buffer: try await request.collectBody(upTo: maximumBodySize)))
            guard case .array(let items)? = body["Resources"] else {
                throw TesseraError(.badRequest, details: "The body must contain a JSON object with a \"Resources\" array of identifiers")
            }
            var ids: [PublicID] = []
            for item in items {
                guard let text = item.stringValue else {
                    throw TesseraError(.badRequest, details: "\"Resources\" must hold strings")
                }
                // Unknown or malformed identifiers are skipped, as Orthanc does.
                if let id = PublicID(validating: text) { ids.append(id) }
            }
            for id in ids {
                for level in ResourceLevel.allCases where try await resources.key(of: id, at: level) != nil {
                    _ = try await deleter.delete(level, id)
                }
            }
            await reap(context)
            return OrthancJSON.response(.object([:]))
        }
        router.delete("/changes") { _, _ in
            try await changes.clear()
            return OrthancJSON.response(.object([:]))
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
