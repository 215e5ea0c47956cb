import Logging
import Model
import PostgresNIO

/// The connection pool to the PostgreSQL index, and the schema set-up every service runs at start.
/// Put ``client`` in the service group before anything that queries.
public struct IndexDatabase: Sendable {
    /// The pool; a swift-service-lifecycle `Service`.
    public let client: PostgresClient
    let logger: Logger
    /// How long a caller waits for a pooled connection before the database counts as unavailable.
    public let acquireTimeout: Duration
    /// Whether this process saw the schema current (after ``migrate()``): until then, queries may meet missing tables.
    public let schema = SchemaReadiness()

    /// Advisory lock key that serializes migrations across every process sharing the database ("TESSERA" in ASCII).
    static let migrationLockKey: Int64 = 0x5445_5353_4552_41

    public init(settings: DatabaseSettings, logger: Logger) {
        var configuration = PostgresClient.Configuration(
            host: settings.host, port: settings.port, username: settings.username,
            password: settings.password, database: settings.database, tls: Self.tls(settings))
        configuration.options.maximumConnections = settings.maximumConnections
        configuration.options.connectTimeout = .seconds(10)
        // Every statement has a deadline: a runaway query is cancelled by the server rather than holding a connection.
        if settings.statementTimeoutSeconds > 0 {
            configuration.options.additionalStartupParameters = [("statement_timeout", "\(settings.statementTimeoutSeconds * 1000)")]
        }
        self.client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.logger = logger
        self.acquireTimeout = .seconds(max(1, settings.acquireTimeoutSeconds))
    }

    /// The TLS of `settings.sslMode`: `require` encrypts without checking the server's certificate (libpq's meaning),
    /// `verify-full` checks it and the host name against `sslRootCertificate` (else the system's authorities).
    static func tls(_ settings: DatabaseSettings) -> PostgresClient.Configuration.TLS {
        switch settings.sslMode {
        case .disable:
            return .disable
        case .require:
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.certificateVerification = .none
            return .require(tls)
        case .verifyFull:
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.certificateVerification = .fullVerification
            if let roots = settings.sslRootCertificate { tls.trustRoots = .file(roots) }
            return .require(tls)
        }
    }

    /// Applies the migrations this process knows and the database lacks. Processes that start together
    /// take turns on an advisory lock, so each migration runs exactly once. Returns the schema version.
    @discardableResult
    public func migrate() async throws -> Int {
        let logger = self.logger
        return try await withConnection { connection in
            // Migrations may build indexes over large tables: no statement deadline while they run.
            try await connection.query("SET statement_timeout = 0", logger: logger)
            try await connection.query("SELECT pg_advisory_lock(\(Self.migrationLockKey))", logger: logger)
            do {
                try await connection.query("""
                    CREATE TABLE IF NOT EXISTS tessera_schema (
                        version INTEGER PRIMARY KEY,
                        applied_at TIMESTAMPTZ NOT NULL DEFAULT now())
                    """, logger: logger)
                var current = 0
                for try await version in try await connection.query(
                    "SELECT COALESCE(MAX(version), 0)::INTEGER FROM tessera_schema", logger: logger).decode(Int.self) {
                    current = version
                }
                for migration in SchemaMigration.all where migration.version > current {
                    try await connection.withTransaction(logger: logger) { transaction in
                        for statement in migration.statements {
                            try await transaction.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                        }
                        try await transaction.query("INSERT INTO tessera_schema (version) VALUES (\(migration.version))", logger: logger)
                    }
                    logger.info("Applied index migration", metadata: ["version": "\(migration.version)"])
                    current = migration.version
                }
                schema.markReady()
                try await connection.query("SELECT pg_advisory_unlock(\(Self.migrationLockKey))", logger: logger)
                try await connection.query("RESET statement_timeout", logger: logger)
                return current
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(Self.migrationLockKey))", logger: logger)
                _ = try? await connection.query("RESET statement_timeout", logger: logger)
                throw error
            }
        }
    }

    /// Applies the migrations, retrying with a growing pause while the database cannot be reached (a service that
    /// starts before PostgreSQL waits for it instead of exiting). Returns when the schema is current, or throws
    /// `CancellationError` when the task is cancelled.
    public func migrateWhenAvailable() async throws {
        var delay = Duration.milliseconds(500)
        while true {
            do {
                try await migrate()
                return
            } catch {
                try Task.checkCancellation()
                logger.warning("Cannot prepare the index yet; retrying", metadata: ["error": "\(String(reflecting: error))",
                                                                                  "retryIn": "\(delay)"])
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(10))
            }
        }
    }

    /// Whether the database answers and the schema is current (for `/ready`).
    public func isReachable() async -> Bool {
        guard schema.isReady else { return false }
        do {
            try await query("SELECT 1")
            return true
        } catch {
            return false
        }
    }
}
