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

    /// The command this process was started for (`tessera-indexer migrate`); nil: serve.
    public let command: String?

    /// Reads the command line (``CommandLineOptions``: `--help`, `--version`, a configuration path, the service's
    /// commands) and the configuration, and bootstraps logging (stderr, text or JSON as `TESSERA_LOG_FORMAT` says,
    /// level from `TESSERA_LOG_LEVEL`, default `info`, changed at run time by `/tools/log-level` through
    /// ``LogVerbosity``) and metrics (Prometheus, names as ``MetricNaming`` gives them). Call once, first thing in
    /// `main`. Exits the process with a clear message on a bad command line or configuration.
    public static func start(service: String, usage: CommandLineOptions.Usage) -> ServiceBootstrap {
        _ = OrthancMetrics.started  // the process's start, for orthanc_up_time_s
        var environment = ProcessInfo.processInfo.environment
        var command: String?
        switch CommandLineOptions.parse(Array(CommandLine.arguments.dropFirst()), usage: usage) {
        case .help(let text), .version(let text):
            print(text, terminator: "")
            exit(0)
        case .invalid(let text):
            FileHandle.standardError.write(Data(text.utf8))
            exit(2)
        case .run(let path, let name):
            if let path { environment["TESSERA_CONFIG"] = path }
            command = name
        }
        let level = environment["TESSERA_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        // The level follows LogVerbosity, which the REST API's /tools/log-level changes for the whole cluster.
        LogVerbosity.shared.configure(level)
        switch environment["TESSERA_LOG_FORMAT"] ?? "text" {
        case "json": LoggingSystem.bootstrap { label in JSONLogHandler(label: label, verbosity: .shared) }
        case "text": LoggingSystem.bootstrap { label in VerbosityLogHandler(label: label, verbosity: .shared) }
        case let other:
            FileHandle.standardError.write(Data("\(usage.executable): TESSERA_LOG_FORMAT must be text or json, not \(other)\n".utf8))
            exit(2)
        }
        var logger = Logger(label: "tessera.\(service)")
        logger[metadataKey: "service"] = "\(service)"
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.nameAndLabelSanitizer = MetricNaming.sanitize
        MetricsSystem.bootstrap(factory)
        do {
            let configuration = try ConfigurationLoader(environment: environment).load()
            DefaultEncoding.shared.set(configuration.defaultEncoding)
            return ServiceBootstrap(configuration: configuration, logger: logger, metrics: registry, command: command)
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
