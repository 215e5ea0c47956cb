import Logging
import Synchronization

/// The process's log levels as Orthanc's verbosities set them (`/tools/log-level`, `/tools/log-level-<category>`):
/// `default` is the level the service started with (`TESSERA_LOG_LEVEL`), `verbose` debug, `trace` trace. Each
/// event belongs to one of Orthanc's categories by the module that logs it (``category(ofSource:)``: DICOM networking
/// is `dicom`, the jobs engine `jobs`, the index's database `sqlite`, the REST server `http`, the rest `generic`) and
/// is written when its category's verbosity allows it.
public final class LogVerbosity: Sendable {
    /// The one of this process; ``ServiceBootstrap`` installs its handler.
    public static let shared = LogVerbosity()

    /// Orthanc's verbosities, quietest first.
    public static let names = ["default", "verbose", "trace"]
    /// Orthanc's log categories.
    public static let categories = ["generic", "plugins", "http", "sqlite", "dicom", "jobs", "lua"]

    /// The category of the events a module logs (swift-log's `source` is the module of the call site). Tessera has
    /// no plugins and no Lua: those categories never apply.
    public static func category(ofSource source: String) -> String {
        switch source {
        case "DICOM", "QueryRetrieve", "EdgeReceiver", "tessera_gateway": "dicom"
        case "Jobs", "tessera_worker": "jobs"
        case "Index", "PostgresNIO": "sqlite"
        case "Hummingbird", "HummingbirdCore", "HummingbirdTLS", "AsyncHTTPClient", "tessera_api": "http"
        default: "generic"
        }
    }

    private struct State {
        var configured: Logger.Level = .info
        /// Verbosity names by category; the overall one under "".
        var verbosities: [String: String] = [:]

        func level(_ verbosity: String?) -> Logger.Level {
            switch verbosity.flatMap({ LogVerbosity.names.firstIndex(of: $0) }) {
            case 2: .trace
            case 1: min(configured, .debug)
            default: configured
            }
        }
    }

    private let state = Mutex(State())

    /// The level the service was started with.
    public func configure(_ level: Logger.Level) {
        state.withLock { $0.configured = level }
    }

    /// Applies the verbosities read from the cluster (category "" is the overall one, used by categories not set).
    public func apply(_ verbosities: [String: String]) {
        state.withLock { $0.verbosities = verbosities }
    }

    /// The most verbose level of any category: a logger lets events of this level and above reach its handler.
    public var level: Logger.Level {
        state.withLock { state in
            state.verbosities.values.map { state.level($0) }.min().map { min($0, state.configured) } ?? state.configured
        }
    }

    /// The level events of one category are written at: the category's own verbosity, else the overall one.
    public func level(ofCategory category: String) -> Logger.Level {
        state.withLock { $0.level($0.verbosities[category] ?? $0.verbosities[""]) }
    }

    /// Whether an event of `level` logged by module `source` is written.
    public func allows(_ level: Logger.Level, source: String) -> Bool {
        level >= self.level(ofCategory: Self.category(ofSource: source))
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
        guard own != nil || verbosity.allows(level, source: source) else { return }
        stream.log(level: level, message: message, metadata: metadata, source: source, file: file, function: function, line: line)
    }
}
