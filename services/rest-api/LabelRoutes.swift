import Hummingbird
import Index
import Model

/// Orthanc 1.12's labels: `GET /{level}/{id}/labels`, `GET|PUT|DELETE /{level}/{id}/labels/{label}` and
/// `GET /tools/labels`. Names are 1 to 64 characters among letters, digits, `-` and `_`.
struct LabelRoutes {
    let labels: LabelStore
    let resources: ResourceQueries

    func add(to router: Router<APIRequestContext>) {
        for level in ResourceLevel.allCases {
            let path = "/\(level.collection)/{id}/labels"
            router.get(RouterPath(path)) { _, context in
                guard let id = context.publicID, let key = try await resources.key(of: id, at: level) else {
                    return Response(status: .notFound)
                }
                let names = try await resources.labels(level, keys: [key])[key] ?? []
                return OrthancJSON.response(.array(names.map(JSONValue.string)))
            }
            router.get(RouterPath(path + "/{label}")) { _, context in
                guard let id = context.publicID, let key = try await resources.key(of: id, at: level),
                      let label = context.parameters.get("label"),
                      try await resources.labels(level, keys: [key])[key]?.contains(label) == true else {
                    return Response(status: .notFound)
                }
                return Self.empty
            }
            router.put(RouterPath(path + "/{label}")) { _, context in
                let label = try Self.label(context)
                guard let id = context.publicID, try await labels.add(label, to: id, at: level) else { return Response(status: .notFound) }
                return Self.empty
            }
            router.delete(RouterPath(path + "/{label}")) { _, context in
                let label = try Self.label(context)
                guard let id = context.publicID, try await labels.remove(label, from: id, at: level) else { return Response(status: .notFound) }
                return Self.empty
            }
        }
        router.get("/tools/labels") { _, _ in
            OrthancJSON.response(.array(try await labels.all().map(JSONValue.string)))
        }
    }

    /// Orthanc answers label changes with an empty text body.
    private static var empty: Response {
        Response(status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer()))
    }

    private static func label(_ context: APIRequestContext) throws(TesseraError) -> String {
        let label = context.parameters.get("label") ?? ""
        try LabelName.validate(label)
        return label
    }
}
