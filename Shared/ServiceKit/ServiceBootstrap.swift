import Foundation
import Logging
import Metrics
import Model
import Prometheus

/// Process-wide set-up shared by every Tessera service: configuration, structured logging, Prometheus metrics.
public struct ServiceBootstrap: Sendable {
    public let configuration: TesseraConfiguration
    public let logger: Logger
    /// The registry `/metrics` renders.
    public let metrics: PrometheusCollectorRegistry

    /// Reads the configuration and bootstraps logging (stderr, level from `TESSERA_LOG_LEVEL`, default `info`)
    /// and metrics. Call once, first thing in `main`. Exits the process with a clear message on a bad configuration.
    public static func start(service: String) -> ServiceBootstrap {
        let environment = ProcessInfo.processInfo.environment
        let level = environment["TESSERA_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: "tessera.\(service)")
        logger[metadataKey: "service"] = "\(service)"
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        do {
            let configuration = try ConfigurationLoader(environment: environment).load()
            return ServiceBootstrap(configuration: configuration, logger: logger, metrics: registry)
        } catch {
            logger.critical("Cannot read the configuration", metadata: ["error": "\(error)"])
            exit(2)
        }
    }

    /// The address HTTP servers bind to: `TESSERA_HTTP_HOST`, else all interfaces when remote access is allowed,
    /// else loopback only (Orthanc's default: no remote REST access).
    public var httpHost: String {
        configuration.httpHost ?? (configuration.remoteAccessAllowed ? "0.0.0.0" : "127.0.0.1")
    }

    /// The address the operations endpoint (`/metrics`, `/health`, `/ready` of the gateway and the indexer) binds to:
    /// `TESSERA_METRICS_HOST`, else loopback only. It has no authentication, so it is never exposed by default.
    public var operationsHost: String {
        configuration.metricsHost ?? "127.0.0.1"
    }
}
