import HTTPTypes
import Hummingbird

/// Answers every request with `X-Request-Id`: the ID its log lines carry (`request` in JSON logs), so a client's
/// report of a failure finds its lines. Put it before the middleware that turns errors into answers.
public struct RequestIDMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.requestID] = context.id
        return response
    }
}

extension HTTPField.Name {
    /// `X-Request-Id`.
    public static let requestID = HTTPField.Name("X-Request-Id")!
}
