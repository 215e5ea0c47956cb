import Logging
import Model
import PostgresNIO

/// The DICOM settings changed at run time through the REST API (Orthanc's `PUT /tools/accepted-transfer-syntaxes`,
/// `/tools/unknown-sop-class-accepted` and `/tools/default-encoding`). Orthanc keeps them in the memory
/// of its one process; Tessera keeps them in PostgreSQL, so that every gateway replica applies them.
public struct ScpSettingsStore: Sendable {
    let database: IndexDatabase
    let logger: Logger

    public init(database: IndexDatabase) {
        self.database = database
        self.logger = database.logger
    }

    /// What was set, each nil when never changed (the configuration's value holds).
    public struct Settings: Sendable, Equatable {
        public var acceptedTransferSyntaxes: [String]?
        public var unknownSopClassAccepted: Bool?
        /// `DefaultEncoding` (every service applies it).
        public var defaultEncoding: String?
        /// Orthanc's metrics switch (`PUT /tools/metrics`): false, `/tools/metrics-prometheus` answers nothing.
        public var metricsEnabled: Bool?

        public init(acceptedTransferSyntaxes: [String]? = nil, unknownSopClassAccepted: Bool? = nil, defaultEncoding: String? = nil) {
            self.acceptedTransferSyntaxes = acceptedTransferSyntaxes
            self.unknownSopClassAccepted = unknownSopClassAccepted
            self.defaultEncoding = defaultEncoding
        }
    }

    static let syntaxesName = "AcceptedTransferSyntaxes", unknownName = "UnknownSopClassAccepted", encodingName = "DefaultEncoding",
                      metricsName = "MetricsEnabled"

    public func current() async throws -> Settings {
        var settings = Settings()
        for try await (name, text) in try await database.query("SELECT name, value::text FROM scp_settings", logger: logger)
            .decode((String, String).self) {
            guard let value = try? JSONValue.parse(text: text) else { continue }
            switch name {
            case Self.syntaxesName:
                if case .array(let items) = value { settings.acceptedTransferSyntaxes = items.compactMap(\.stringValue) }
            case Self.unknownName:
                settings.unknownSopClassAccepted = value.boolValue
            case Self.encodingName:
                settings.defaultEncoding = value.stringValue
            case Self.metricsName:
                settings.metricsEnabled = value.boolValue
            default:
                continue
            }
        }
        return settings
    }

    public func setAcceptedTransferSyntaxes(_ syntaxes: [String]) async throws {
        try await put(Self.syntaxesName, .array(syntaxes.map(JSONValue.string)))
    }

    public func setUnknownSopClassAccepted(_ accepted: Bool) async throws {
        try await put(Self.unknownName, .bool(accepted))
    }

    public func setDefaultEncoding(_ encoding: String) async throws {
        try await put(Self.encodingName, .string(encoding))
    }

    public func setMetricsEnabled(_ enabled: Bool) async throws {
        try await put(Self.metricsName, .bool(enabled))
    }

    private func put(_ name: String, _ value: JSONValue) async throws {
        var binds = PostgresBindings()
        binds.append(name)
        binds.append(value.compactText)
        try await database.query(PostgresQuery(unsafeSQL: """
            INSERT INTO scp_settings (name, value) VALUES ($1, $2::jsonb)
            ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, updated_at = now()
            """, binds: binds), logger: logger)
    }
}
