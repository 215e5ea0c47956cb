import Hummingbird
import Logging
import Prometheus

/// The operations endpoint of a service (`/health`, `/ready`, `/metrics`), on a port of its own without credentials.
public enum OperationsServer {
    /// An application (a swift-service-lifecycle `Service`) serving ``OperationsRoutes`` on `host:port`.
    public static func make(
        host: String, port: Int, metrics: PrometheusCollectorRegistry, logger: Logger,
        readiness: @escaping @Sendable () async -> Bool,
        extraMetrics: (@Sendable () async -> String)? = nil
    ) -> some ApplicationProtocol {
        let router = Router()
        OperationsRoutes.add(to: router, metrics: metrics, readiness: readiness, extraMetrics: extraMetrics)
        return Application(router: router, configuration: .init(address: .hostname(host, port: port)), logger: logger)
    }
}
