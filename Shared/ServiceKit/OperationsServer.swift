import Hummingbird
import Logging
import Prometheus

/// The HTTP endpoint of a service that has no REST API of its own: `/health`, `/ready`, `/metrics`.
public enum OperationsServer {
    /// An application (a swift-service-lifecycle `Service`) serving ``OperationsRoutes`` on `host:port`.
    public static func make(
        host: String, port: Int, metrics: PrometheusCollectorRegistry, logger: Logger,
        readiness: @escaping @Sendable () async -> Bool
    ) -> some ApplicationProtocol {
        let router = Router()
        OperationsRoutes.add(to: router, metrics: metrics, readiness: readiness)
        return Application(router: router, configuration: .init(address: .hostname(host, port: port)), logger: logger)
    }
}
