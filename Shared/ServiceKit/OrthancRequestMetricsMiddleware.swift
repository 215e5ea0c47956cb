import Hummingbird
import Model

/// Keeps Orthanc's REST metrics of this process: `orthanc_rest_api_active_requests` (requests in progress, the one
/// asking included) and `orthanc_rest_api_duration_ms` (the longest request over the last 10 s).
public struct OrthancRequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        OrthancMetrics.restAPIActiveRequests.add(1, ordering: .relaxed)
        defer {
            OrthancMetrics.restAPIActiveRequests.subtract(1, ordering: .relaxed)
            OrthancMetrics.restAPIDuration.record(OrthancMetrics.milliseconds(ContinuousClock.now - started))
        }
        return try await next(request, context)
    }
}
