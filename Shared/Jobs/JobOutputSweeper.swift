import Foundation
import Index
import Logging
import Model
import ServiceLifecycle

/// Removes job outputs nobody can ask for any more: the archive of a job that was deleted or left the history
/// (`JobsHistorySize`), and a partial archive whose job is no longer running (its worker died; a resumed job writes
/// it anew). Runs in every worker; removing twice is harmless.
public struct JobOutputSweeper: Service {
    let outputs: JobOutputs
    let store: JobStore
    let interval: Duration
    let logger: Logger

    public init(outputs: JobOutputs, store: JobStore, interval: Duration = .seconds(60), logger: Logger) {
        self.outputs = outputs
        self.store = store
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await sweep()
            } catch {
                logger.warning("Could not sweep job outputs", metadata: ["error": "\(error)"])
            }
            // Cut short by a graceful shutdown, so the worker stops at once.
            let interval = self.interval
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }

    /// One pass; returns how many files were removed.
    @discardableResult
    public func sweep() async throws -> Int {
        let files = outputs.files()
        guard !files.isEmpty else { return 0 }
        let states = try await store.states(of: Array(Set(files.map(\.job))))
        var removed = 0
        for file in files {
            let state = states[file.job]
            let stale = file.complete ? state == nil : state != .running
            // A partial file is only touched once it has not grown for a while (its job may be claimed again).
            if stale && (file.complete || Self.age(file.path) > .seconds(120)) {
                if (try? FileManager.default.removeItem(atPath: file.path)) != nil { removed += 1 }
            }
        }
        if removed > 0 { logger.info("Removed job outputs no job refers to", metadata: ["files": "\(removed)"]) }
        return removed
    }

    static func age(_ path: String) -> Duration {
        guard let modified = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date else {
            return .zero
        }
        return .seconds(max(0, Date().timeIntervalSince(modified)))
    }
}
