import Hummingbird
import Index
import Model

/// Until the index schema is current (PostgreSQL not reachable yet at start, or migrations running), every request
/// but the operations endpoints answers 503 with Orthanc's "database not available" error, never a 500 from a
/// missing table.
struct SchemaGateMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    let schema: SchemaReadiness

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if schema.isReady || ["/health", "/ready", "/metrics"].contains(request.uri.path) {
            return try await next(request, context)
        }
        throw TesseraError(.databaseUnavailable, details: "The index is not ready yet (waiting for PostgreSQL or for migrations)")
    }
}
