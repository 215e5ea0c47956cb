import Index
import Logging
import ServiceLifecycle
import Storage

/// Removes the blobs of deleted instances from shared storage once their deletion has committed: right after each
/// `DELETE`, and in the background every `interval` to finish what a crashed replica left queued.
struct BlobReaper: Service {
    let queue: BlobDeletionQueue
    let blobs: BlobStore
    let logger: Logger
    var interval: Duration = .seconds(30)

    func run() async throws {
        // Let the schema service finish its migrations before the first sweep.
        try? await Task.sleep(for: .seconds(5))
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await sweep()
            } catch {
                logger.warning("Blob removal sweep failed; will retry", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: interval)
        }
    }

    /// Drains the whole queue.
    func sweep() async throws {
        let blobs = self.blobs
        while try await queue.drain(remove: { try await blobs.remove($0) }).claimed > 0 {}
    }
}
