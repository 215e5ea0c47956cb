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
    /// DICOM TLS settings for modalities declared with `UseDicomTls`.
    let tls: DicomTlsSettings?
    private let idle = IdleAssociations()

    public init(threads: NIOThreadPool, closeDelay: Duration, tls: DicomTlsSettings? = nil, logger: Logger) {
        self.threads = threads
        self.closeDelay = closeDelay
        self.tls = tls
        self.logger = logger
    }

    /// Where and how to reach a modality: its address, our AE title, the timeout, and DICOM TLS when the modality is
    /// declared with `UseDicomTls` (refused when no certificate is configured).
    func peer(_ remote: ModalityConfiguration, callingAET: String, timeoutSeconds: Int,
              maximumPDU: Int = 0) throws(TesseraError) -> StoreSCU.Peer {
        var peer = StoreSCU.Peer(host: remote.host, port: remote.port, calledAET: remote.aet, callingAET: callingAET,
                                 timeoutSeconds: timeoutSeconds, maximumPDU: maximumPDU)
        if remote.useDicomTls {
            guard let tls else {
                throw TesseraError(.badConfiguration, details: "Modality \"\(remote.aet)\" uses DICOM TLS, but DicomTlsCertificate "
                                   + "and DicomTlsPrivateKey are not configured")
            }
            peer.tls = tls
        }
        return peer
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
        try await lease(to: peer, contexts: needed).association
    }

    /// An association for a job: `reused` when it waited idle (its peer may have gone since: see ``store(_:path:lease:)``).
    struct Lease {
        var association: StoreSCU
        var reused: Bool
        let peer: StoreSCU.Peer
        let contexts: Set<StoreSCU.Context>
    }

    /// ``association(to:contexts:)``, saying whether it was reused.
    func lease(to peer: StoreSCU.Peer, contexts needed: Set<StoreSCU.Context>) async throws -> Lease {
        if let reused = await idle.take(peer: peer, covering: needed) {
            if reused.isOpen { return Lease(association: reused, reused: true, peer: peer, contexts: needed) }
            try? await blocking { reused.close() }
        }
        let opened = try await blocking { () throws(TesseraError) -> StoreSCU in try StoreSCU(peer: peer, contexts: needed) }
        return Lease(association: opened, reused: false, peer: peer, contexts: needed)
    }

    /// Sends the file at `path` on the lease's association; returns the outcome and the lease to go on with. An
    /// association that waited idle may have been dropped by its peer meanwhile (a restarted modality): when its first
    /// send fails on the network, a new association replaces it and the file is sent once more, so a job never fails
    /// for what happened between jobs.
    func store(_ lease: Lease, path: String, moveOriginatorAET: String?,
               moveOriginatorID: UInt16) async throws(TesseraError) -> (StoreSCU.Outcome, Lease) {
        let association = lease.association
        let send = { (target: StoreSCU) async throws(TesseraError) -> StoreSCU.Outcome in
            try await self.blocking { () throws(TesseraError) -> StoreSCU.Outcome in
                try target.store(path: path, moveOriginatorAET: moveOriginatorAET, moveOriginatorID: moveOriginatorID)
            }
        }
        var failure: TesseraError
        do {
            return (try await send(association), Lease(association: association, reused: false, peer: lease.peer,
                                                        contexts: lease.contexts))
        } catch {
            failure = error
        }
        guard lease.reused, !association.isOpen else { throw failure }
        logger.info("An idle association was found closed by its peer; opening a new one",
                    metadata: ["remoteAET": "\(lease.peer.calledAET)"])
        try? await blocking { association.close() }
        let (peer, contexts) = (lease.peer, lease.contexts)
        let opened = try await blocking { () throws(TesseraError) -> StoreSCU in try StoreSCU(peer: peer, contexts: contexts) }
        return (try await send(opened), Lease(association: opened, reused: false, peer: peer, contexts: contexts))
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
