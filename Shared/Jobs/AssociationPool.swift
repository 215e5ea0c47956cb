import DICOM
import Foundation
import Logging
import Model
import NIOPosix
import ServiceLifecycle

/// Outbound C-STORE associations of one worker. Consecutive stores to the same modality reuse an open association
/// (`DicomAssociationCloseDelay`): a job hands its association back when it ends, and it is closed once idle that
/// long. Every blocking DCMTK call runs on the pool's own threads, never on Swift's cooperative pool.
public final class AssociationPool: Service, Sendable {
    let threads: NIOThreadPool
    let closeDelay: Duration
    let logger: Logger
    private let idle = IdleAssociations()

    public init(threads: NIOThreadPool, closeDelay: Duration, logger: Logger) {
        self.threads = threads
        self.closeDelay = closeDelay
        self.logger = logger
    }

    /// Closes idle associations past the delay, until shutdown; then closes them all.
    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(500))
            for association in await idle.expired(olderThan: closeDelay) {
                try? await blocking { association.close() }
            }
        }
        for association in await idle.expired(olderThan: .zero) {
            try? await blocking { association.close() }
        }
    }

    /// An open association to `peer` that proposed every context of `needed`: an idle one, or a new one.
    func association(to peer: StoreSCU.Peer, contexts needed: Set<StoreSCU.Context>) async throws -> StoreSCU {
        if let reused = await idle.take(peer: peer, covering: needed) {
            if reused.isOpen { return reused }
            try? await blocking { reused.close() }
        }
        return try await blocking { () throws(TesseraError) -> StoreSCU in try StoreSCU(peer: peer, contexts: needed) }
    }

    /// Hands an association back for the next job to the same peer (closed at once when the delay is zero).
    func giveBack(_ association: StoreSCU) async {
        guard association.isOpen, closeDelay > .zero else {
            try? await blocking { association.close() }
            return
        }
        await idle.put(association)
    }

    /// Runs a blocking call on the pool's threads.
    func blocking<Result: Sendable>(_ body: @escaping @Sendable () throws(TesseraError) -> Result) async throws(TesseraError) -> Result {
        do {
            return try await threads.runIfActive { try body() }
        } catch let error as TesseraError {
            throw error
        } catch {
            throw TesseraError(.internalError, details: "The worker is shutting down: \(error)")
        }
    }
}

extension AssociationPool {
    /// Associations waiting for their next job.
    actor IdleAssociations {
        private var entries: [(association: StoreSCU, since: ContinuousClock.Instant)] = []

        func take(peer: StoreSCU.Peer, covering needed: Set<StoreSCU.Context>) -> StoreSCU? {
            guard let index = entries.firstIndex(where: { entry in
                entry.association.peer == peer && needed.allSatisfy { entry.association.covers($0) }
            }) else { return nil }
            return entries.remove(at: index).association
        }

        func put(_ association: StoreSCU) {
            entries.append((association, .now))
        }

        func expired(olderThan age: Duration) -> [StoreSCU] {
            let now = ContinuousClock.now
            let old = entries.filter { now - $0.since >= age }.map(\.association)
            entries.removeAll { now - $0.since >= age }
            return old
        }
    }
}
