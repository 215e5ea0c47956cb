/// Prometheus names for the metrics libraries emit under their own conventions: Hummingbird's HTTP metrics
/// (`hb.requests`, `http.server.request.duration`, ...) become `tessera_http_*` with units and `_total`, and their
/// OpenTelemetry-style label names become `route`, `method`, `status`. Tessera's own metrics pass unchanged.
/// Installed as the Prometheus factory's `nameAndLabelSanitizer` by ``ServiceBootstrap``.
public enum MetricNaming {
    static let names: [String: String] = [
        "hb.requests": "tessera_http_requests_total",
        "hb.request.errors": "tessera_http_request_errors_total",
        "http.server.request.duration": "tessera_http_request_duration_seconds",
        "http.server.active_requests": "tessera_http_active_requests",
    ]

    static let labels: [String: String] = [
        "http.route": "route",
        "http.request.method": "method",
        "http.response.status_code": "status",
        "error.type": "status",
    ]

    /// The Prometheus name and labels of a metric created through swift-metrics.
    @Sendable
    public static func sanitize(_ name: String, _ dimensions: [(String, String)]) -> (String, [(String, String)]) {
        (names[name] ?? name, dimensions.map { (labels[$0.0] ?? $0.0, $0.1) })
    }
}
