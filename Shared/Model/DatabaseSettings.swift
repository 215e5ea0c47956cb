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

    public init() {}
}
