import Foundation
import Hummingbird
import Jobs
import Model

/// The routes modalities and peers share: `GET /{collection}` (`expand`), `GET|PUT|DELETE /{collection}/{id}`,
/// `GET /{collection}/{id}/configuration`.
struct EndpointRoutes<Endpoint: RemoteEndpoint> {
    let registry: EndpointRegistry<Endpoint>
    /// What `GET /{collection}/{id}` lists: the operations Tessera serves.
    let operations: [String]

    func add(to router: Router<APIRequestContext>) {
        let collection = "/" + Endpoint.collection
        router.get(RouterPath(collection)) { request, _ in
            let endpoints = try await registry.all()
            if request.uri.queryParameters["expand"] != nil {
                return OrthancJSON.response(.object(endpoints.mapValues(\.json)))
            }
            return OrthancJSON.response(.array(endpoints.keys.sorted().map(JSONValue.string)))
        }
        router.get(RouterPath(collection + "/{id}")) { _, context in
            _ = try await registry.endpoint(try Self.name(context))
            return OrthancJSON.response(.array(operations.map(JSONValue.string)))
        }
        router.get(RouterPath(collection + "/{id}/configuration")) { _, context in
            OrthancJSON.response(try await registry.endpoint(try Self.name(context)).json)
        }
        router.put(RouterPath(collection + "/{id}")) { request, context in
            let endpoint = try Endpoint(json: try await Self.json(request))
            try await registry.put(try Self.name(context), endpoint)
            return MetadataRoutes.text("", etag: nil)
        }
        router.delete(RouterPath(collection + "/{id}")) { _, context in
            try await registry.delete(try Self.name(context))
            return MetadataRoutes.text("", etag: nil)
        }
    }

    /// The `{id}` of the route.
    static func name(_ context: APIRequestContext) throws -> String {
        guard let name = context.parameters.get("id") else { throw TesseraError(.uriSyntax) }
        return name
    }

    /// The body as JSON (`emptyAs` for an empty body); Orthanc's 400 otherwise.
    static func json(_ request: Request, emptyAs empty: JSONValue? = nil, maximumSize: Int = 16 << 20) async throws -> JSONValue {
        var request = request
        let buffer = try await request.collectBody(upTo: maximumSize)
        let data = Data(buffer: buffer)
        if let empty, data.allSatisfy({ [0x20, 0x0A, 0x0D, 0x09].contains($0) }) { return empty }
        guard let value = try? JSONValue.parse(data) else {
            throw TesseraError(.badFileFormat, details: "Must provide a JSON value")
        }
        return value
    }
}
