import DICOM
import Foundation
import Index
import Model

/// Runs the sends of `POST /modalities/{id}/store-straight` and `/peers/{id}/store-straight` as hidden jobs: the body
/// the API wrote to an outbound file (on the shared storage) goes to the modality (C-STORE) or the peer
/// (`POST /instances`) without being stored, and the file is removed once the job ends, whatever its outcome.
public struct StraightStoreJob: JobHandler {
    let associations: AssociationPool
    let peers: PeerClient
    let maximumPDU: Int
    public let type: String

    /// Tessera's own job types (hidden from `/jobs`).
    public static let modalityType = "DicomStoreStraight"
    public static let peerType = "OrthancPeerStoreStraight"

    public init(modalityTypeWith associations: AssociationPool, peers: PeerClient, maximumPDU: Int) {
        self.init(type: Self.modalityType, associations: associations, peers: peers, maximumPDU: maximumPDU)
    }

    public init(peerTypeWith associations: AssociationPool, peers: PeerClient, maximumPDU: Int) {
        self.init(type: Self.peerType, associations: associations, peers: peers, maximumPDU: maximumPDU)
    }

    private init(type: String, associations: AssociationPool, peers: PeerClient, maximumPDU: Int) {
        self.type = type
        self.associations = associations
        self.peers = peers
        self.maximumPDU = maximumPDU
    }

    public func run(_ job: JobRecord, context: JobContext) async throws -> JobResult {
        guard let path = job.request["Path"]?.stringValue, let answer = job.request["Answer"] else {
            throw TesseraError(.internalError, details: "A store-straight job's request is incomplete")
        }
        defer { try? FileManager.default.removeItem(atPath: path) }
        if type == Self.peerType {
            guard let peer = job.request["Peer"] else { throw TesseraError(.internalError, details: "No peer in the request") }
            let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
            return .success(try await peers.store(try PeerConfiguration(json: peer), file: bytes))
        }
        guard let remoteJSON = job.request["Remote"], let localAet = job.request["LocalAet"]?.stringValue,
              let timeout = job.request["Timeout"]?.intValue, let sopClass = job.request["SOPClassUID"]?.stringValue,
              let syntax = job.request["TransferSyntax"]?.stringValue else {
            throw TesseraError(.internalError, details: "A store-straight job's request is incomplete")
        }
        let remote = try ModalityConfiguration(json: remoteJSON)
        let peer = try associations.peer(remote, callingAET: localAet, timeoutSeconds: timeout, maximumPDU: maximumPDU)
        let lease = try await associations.lease(to: peer, contexts: [StoreSCU.Context(sopClass: sopClass, transferSyntax: syntax)])
        let outcome: StoreSCU.Outcome
        do {
            let (answered, used) = try await associations.store(lease, path: path, moveOriginatorAET: nil, moveOriginatorID: 0)
            outcome = answered
            await associations.giveBack(used.association)
        } catch {
            await associations.giveBack(lease.association)
            throw error
        }
        try ModalityStoreJob.check(outcome, remoteAet: remote.aet)
        return .success(answer)
    }
}
