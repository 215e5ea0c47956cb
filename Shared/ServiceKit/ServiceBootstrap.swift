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

    /// Reads the configuration and bootstraps logging (stderr, level from `TESSERA_LOG_LEVEL`, default `info`, changed at
    /// run time by `/tools/log-level` through ``LogVerbosity``)
    /// and metrics. Call once, first thing in `main`. Exits the process with a clear message on a bad configuration.
    public static func start(service: String) -> ServiceBootstrap {
        let environment = ProcessInfo.processInfo.environment
        let level = environment["TESSERA_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        // The level follows LogVerbosity, which the REST API's /tools/log-level changes for the whole cluster.
        LogVerbosity.shared.configure(level)
        LoggingSystem.bootstrap { label in VerbosityLogHandler(label: label, verbosity: .shared) }
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
