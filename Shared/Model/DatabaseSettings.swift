import Foundation

/// Where the PostgreSQL index lives. Read from the `PostgreSQL` section (the keys of Orthanc's PostgreSQL plugin)
/// and `TESSERA_PG_HOST`, `TESSERA_PG_PORT`, `TESSERA_PG_USER`, `TESSERA_PG_PASSWORD`, `TESSERA_PG_DATABASE`.
public struct DatabaseSettings: Sendable, Hashable {
    public var host = "127.0.0.1"
    public var port = 5432
    public var username = "postgres"
    public var password: String? = nil
    public var database = "tessera"
    /// Connections each process keeps open at most (Orthanc's `IndexConnectionsCount`).
    public var maximumConnections = 10
    /// Longest a statement may run, in seconds, before PostgreSQL cancels it (`PostgreSQL.StatementTimeout`,
    /// Tessera's own key; 0 disables). Migrations run without it.
    public var statementTimeoutSeconds = 60
    /// Longest a request waits for a pooled connection before the database counts as unavailable (HTTP 503), in
    /// seconds (`PostgreSQL.AcquireTimeout`, Tessera's own key).
    public var acquireTimeoutSeconds = 10

    /// TLS to PostgreSQL: `PostgreSQL.EnableSsl: true` is libpq's `sslmode=require` (encrypted, certificate not
    /// checked), as Orthanc's plugin; `sslmode` in `PostgreSQL.ConnectionUri` or `TESSERA_PG_SSLMODE` also takes
    /// `verify-full` (certificate checked against `TESSERA_PG_SSLROOTCERT`, else the system's authorities).
    public var sslMode: SSLMode = .disable
    /// PEM file of the authorities `verify-full` trusts (`sslrootcert` of the URI, `TESSERA_PG_SSLROOTCERT`).
    public var sslRootCertificate: String? = nil

    /// libpq's `sslmode` values Tessera supports.
    public enum SSLMode: String, Sendable, Hashable, CaseIterable {
        case disable
        case require
        case verifyFull = "verify-full"
    }

    public init() {}

    /// Applies a libpq connection URI (`postgresql://user:password@host:port/database?sslmode=require`), Orthanc's
    /// `PostgreSQL.ConnectionUri`.
    public mutating func apply(connectionURI text: String) throws(TesseraError) {
        guard let uri = URLComponents(string: text), uri.scheme == "postgresql" || uri.scheme == "postgres" else {
            throw TesseraError(.badConfiguration, message: "Bad configuration",
                               details: "PostgreSQL.ConnectionUri must be postgresql://user:password@host:port/database")
        }
        if let host = uri.host, !host.isEmpty { self.host = host }
        if let port = uri.port { self.port = port }
        if let user = uri.user, !user.isEmpty { username = user }
        if let password = uri.password { self.password = password }
        let path = uri.path.hasPrefix("/") ? String(uri.path.dropFirst()) : uri.path
        if !path.isEmpty { database = path }
        for item in uri.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let value = item.value, let mode = SSLMode(rawValue: value) else {
                    throw TesseraError(.badConfiguration, message: "Bad configuration",
                                       details: "PostgreSQL.ConnectionUri: sslmode must be disable, require or verify-full")
                }
                sslMode = mode
            case "sslrootcert": sslRootCertificate = item.value
            default:
                throw TesseraError(.badConfiguration, message: "Bad configuration",
                                   details: "PostgreSQL.ConnectionUri: parameter \(item.name) is not supported")
            }
        }
    }
}
