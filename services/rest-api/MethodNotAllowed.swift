import HTTPTypes
import Hummingbird
import Model
import ServiceKit

/// Orthanc answers a known route called with another method by 405 with an `Allow` header and no body; the router
/// alone would say 404. ``register(_:on:allowed:)`` adds those answers for the methods a route does not serve.
enum MethodNotAllowed {
    static let methods: [HTTPRequest.Method] = [.get, .post, .put, .delete]

    static func register(_ paths: [String], on router: Router<APIRequestContext>, allowed: [HTTPRequest.Method]) {
        let allow = allowed.map(\.rawValue).joined(separator: ",")
        for path in paths {
            for method in methods where !allowed.contains(method) {
                router.on(RouterPath(path), method: method) { _, _ in
                    var headers = HTTPFields()
                    if let name = HTTPField.Name("Allow") { headers[name] = allow }
                    return Response(status: .methodNotAllowed, headers: headers)
                }
            }
        }
    }

    /// The 405 answers of every route Tessera serves.
    static func registerAll(on router: Router<APIRequestContext>) {
        register(["/tools/find", "/tools/lookup", "/tools/bulk-delete", "/tools/create-archive", "/tools/create-media",
                  "/tools/create-media-extended"], on: router, allowed: [.post])
        register(["/tools/labels", "/statistics", "/system", "/patients", "/studies", "/series"], on: router, allowed: [.get])
        register(["/instances"], on: router, allowed: [.get, .post])
        let images = ["preview", "image-uint8", "image-uint16", "image-int16", "rendered", "matlab", "numpy"]
        register(images.map { "/instances/{id}/\($0)" } + images.map { "/instances/{id}/frames/{frame}/\($0)" }
                 + ["/instances/{id}/frames/{frame}/raw", "/instances/{id}/frames/{frame}/raw.gz", "/instances/{id}/pdf",
                    "/series/{id}/numpy"], on: router, allowed: [.get])
        register(["/changes", "/exports"], on: router, allowed: [.get, .delete])
        register(["/tools/now", "/tools/now-local", "/tools/generate-uid", "/instances/{id}/file", "/series/{id}/ordered-slices"],
                 on: router, allowed: [.get])
        register(["/tools/log-level", "/tools/default-encoding", "/tools/metrics"] + LogVerbosity.categories.map { "/tools/log-level-\($0)" },
                 on: router, allowed: [.get, .put])
        register(["/jobs", "/modalities", "/modalities/{id}/configuration", "/peers", "/peers/{id}/configuration",
                  "/peers/{id}/system", "/queries", "/queries/{id}", "/queries/{id}/level", "/queries/{id}/modality",
                  "/queries/{id}/query", "/queries/{id}/answers", "/queries/{id}/answers/{n}",
                  "/queries/{id}/answers/{n}/content", "/storage-commitment/{id}"],
                 on: router, allowed: [.get])
        register(["/jobs/{id}"], on: router, allowed: [.get, .delete])
        register(["/jobs/{id}/cancel", "/jobs/{id}/pause", "/jobs/{id}/resume", "/jobs/{id}/resubmit",
                  "/modalities/{id}/echo", "/modalities/{id}/store", "/peers/{id}/store",
                  "/modalities/{id}/store-straight", "/peers/{id}/store-straight", "/modalities/{id}/query",
                  "/modalities/{id}/move", "/queries/{id}/retrieve", "/queries/{id}/answers/{n}/retrieve",
                  "/modalities/{id}/get", "/modalities/{id}/storage-commitment", "/storage-commitment/{id}/remove",
                  "/modalities/{id}/find"],
                 on: router, allowed: [.post])
        register(["/modalities/{id}", "/peers/{id}"], on: router, allowed: [.get, .put, .delete])
        for level in ["patients", "studies", "series", "instances"] {
            register(["/\(level)/{id}"], on: router, allowed: [.get, .delete])
            register(["/\(level)/{id}/labels/{label}"], on: router, allowed: [.get, .put, .delete])
            register(["/\(level)/{id}/labels", "/\(level)/{id}/statistics", "/\(level)/{id}/metadata", "/\(level)/{id}/attachments"],
                     on: router, allowed: [.get])
            register(["/\(level)/{id}/metadata/{name}", "/\(level)/{id}/attachments/{name}"], on: router, allowed: [.get, .put, .delete])
            register(["/\(level)/{id}/attachments/{name}/verify-md5", "/\(level)/{id}/attachments/{name}/compress",
                      "/\(level)/{id}/attachments/{name}/uncompress"], on: router, allowed: [.post])
            let operations = ["data", "compressed-data", "info", "size", "compressed-size", "md5", "compressed-md5", "is-compressed"]
            register(operations.map { "/\(level)/{id}/attachments/{name}/\($0)" }, on: router, allowed: [.get])
            // Parents and children of the resource, as ResourceRoutes names them.
            if let own = ResourceLevel.allCases.first(where: { $0.collection == level }) {
                register(ResourceLevel.allCases.filter { $0 != own }.map { other in
                    "/\(level)/{id}/" + (other.depth > own.depth ? other.collection : other.rawValue.lowercased())
                }, on: router, allowed: [.get])
            }
            if level != "instances" {
                register(["/\(level)/{id}/shared-tags", "/\(level)/{id}/instances-tags"], on: router, allowed: [.get])
                register(["/\(level)/{id}/archive", "/\(level)/{id}/media"], on: router, allowed: [.get, .post])
            }
        }
    }
}
