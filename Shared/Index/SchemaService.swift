import ServiceLifecycle

/// Applies the index migrations at start (under the advisory lock, waiting for PostgreSQL when it is not up yet),
/// then stays until shutdown so that a service group keeps running. Place it after the database client in the group.
public struct SchemaService: Service {
    let database: IndexDatabase

    public init(database: IndexDatabase) {
        self.database = database
    }

    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { try await database.migrateWhenAvailable() }
            try await gracefulShutdown()
        } catch is CancellationError {}
    }
}
