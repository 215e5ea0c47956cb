import Index
import Logging
import Model
import ServiceLifecycle
import Storage

/// Removes blobs from shared storage once the transaction that queued them has committed (deleted instances and
/// attachments, copies left unreferenced): right after a `DELETE` when asked, and in the background every `interval`
/// to finish what a crashed replica left queued. Any number of replicas may run it.
public struct BlobReaper: Service {
    let queue: BlobDeletionQueue
    let blobs: BlobStore
    let logger: Logger
    let interval: Duration

    public init(database: IndexDatabase, blobs: BlobStore, interval: Duration = .seconds(30), logger: Logger) {
        self.queue = BlobDeletionQueue(database: database)
        self.blobs = blobs
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        do {
            // Let the schema be migrated before the first sweep.
            try await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(5)) }
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                do {
                    try await sweep()
                } catch {
                    logger.warning("Blob removal sweep failed; will retry", metadata: ["error": "\(error)"])
                }
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            }
        } catch is CancellationError {}
    }

    /// Drains the whole queue.
    public func sweep() async throws {
        let blobs = self.blobs
        while try await queue.drain(remove: { try await blobs.remove($0) }).claimed > 0 {}
    }
}
