import Logging
import Synchronization

/// The process's log level as Orthanc's verbosity sets it (`/tools/log-level`): `default` is the level the service
/// started with (`TESSERA_LOG_LEVEL`), `verbose` debug, `trace` trace. Tessera's logs are not split by Orthanc's
/// categories: the most verbose of the overall level and the categories applies.
public final class LogVerbosity: Sendable {
    /// The one of this process; ``ServiceBootstrap`` installs its handler.
    public static let shared = LogVerbosity()

    /// Orthanc's verbosities, quietest first.
    public static let names = ["default", "verbose", "trace"]
    /// Orthanc's log categories.
    public static let categories = ["generic", "plugins", "http", "sqlite", "dicom", "jobs", "lua"]

    private struct State {
        var configured: Logger.Level = .info
        var verbosities: [String: String] = [:]
    }

    private let state = Mutex(State())

    /// The level the service was started with.
    public func configure(_ level: Logger.Level) {
        state.withLock { $0.configured = level }
    }

    /// Applies the levels read from the cluster (category "" is the overall level).
    public func apply(_ verbosities: [String: String]) {
        state.withLock { $0.verbosities = verbosities }
    }

    /// The level loggers use now.
    public var level: Logger.Level {
        state.withLock { state in
            let rank = state.verbosities.values.compactMap { Self.names.firstIndex(of: $0) }.max() ?? 0
            switch rank {
            case 2: return .trace
            case 1: return min(state.configured, .debug)
            default: return state.configured
            }
        }
    }
}

/// A stream handler whose level follows ``LogVerbosity`` (unless this logger's level was set on its own).
public struct VerbosityLogHandler: LogHandler {
    private var stream: StreamLogHandler
    private let verbosity: LogVerbosity
    private var own: Logger.Level?

    public init(label: String, verbosity: LogVerbosity) {
        stream = StreamLogHandler.standardError(label: label)
        self.verbosity = verbosity
    }

    public var logLevel: Logger.Level {
        get { own ?? verbosity.level }
        set { own = newValue }
    }

    public var metadata: Logger.Metadata {
        get { stream.metadata }
        set { stream.metadata = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { stream[metadataKey: key] }
        set { stream[metadataKey: key] = newValue }
    }

    public func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String,
                    file: String, function: String, line: UInt) {
        stream.log(level: level, message: message, metadata: metadata, source: source, file: file, function: function, line: line)
    }
}
