import HTTPTypes
import Hummingbird
import Model

/// Orthanc's HTTP method faking, applied before routing: an `X-HTTP-Method-Override` header (any method), or
/// `?_method=` on a GET, turns the request into a PUT or DELETE (any case); another value answers 400, as Orthanc's
/// HTTP server does. (A router middleware would come too late: Hummingbird picks the route by method first.)
struct MethodOverrideResponder<Inner: HTTPResponder>: HTTPResponder where Inner.Context == APIRequestContext {
    typealias Context = APIRequestContext
    static var header: HTTPField.Name { HTTPField.Name("X-HTTP-Method-Override")! }

    let inner: Inner

    func respond(to request: Request, context: Context) async throws -> Response {
        var wanted = request.headers[Self.header]
        if wanted == nil, request.method == .get, let value = request.uri.queryParameters["_method"] {
            wanted = String(value)
        }
        guard let wanted else { return try await inner.respond(to: request, context: context) }
        var head = request.head
        switch wanted.uppercased() {
        case "PUT": head.method = .put
        case "DELETE": head.method = .delete
        default:
            return OrthancErrorMiddleware<Context>.response(
                for: TesseraError(.badRequest, details: "Unsupported HTTP method override: \(wanted)"), request: request)
        }
        return try await inner.respond(to: Request(head: head, body: request.body), context: context)
    }
}
