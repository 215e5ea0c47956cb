import DICOM
import Index
import Model
import Storage

/// Runs the N-ACTION of `POST /modalities/{id}/storage-commitment` as a hidden job (every outbound association leaves
/// from a worker; Orthanc makes the call directly). The report comes later to the gateway, which completes the
/// transaction on the shared storage (``StorageCommitmentStore``).
public struct StorageCommitmentJob: JobHandler {
    let associations: AssociationPool
    let commitments: StorageCommitmentStore
    let maximumPDU: Int

    public init(associations: AssociationPool, commitments: StorageCommitmentStore, maximumPDU: Int) {
        self.associations = associations
        self.commitments = commitments
        self.maximumPDU = maximumPDU
    }

    /// Tessera's own job type (hidden from `/jobs`).
    public static let type = "StorageCommitmentScu"

    public var type: String { Self.type }

    /// The request of such a job.
    public static func request(remote: ModalityConfiguration, localAet: String, timeoutSeconds: Int, transactionUID: String,
                               instances: [StorageCommitmentReport.Reference]) -> JSONValue {
        .object([
            "Remote": remote.json, "LocalAet": .string(localAet), "Timeout": .number(Double(timeoutSeconds)),
            "TransactionUID": .string(transactionUID),
            "Instances": .array(instances.map { .array([.string($0.sopClassUID), .string($0.sopInstanceUID)]) }),
        ])
    }

    public func run(_ job: JobRecord, context: JobContext) async throws -> JobResult {
        guard let remoteJSON = job.request["Remote"], let localAet = job.request["LocalAet"]?.stringValue,
              let timeout = job.request["Timeout"]?.intValue, let transaction = job.request["TransactionUID"]?.stringValue,
              case .array(let items)? = job.request["Instances"] else {
            throw TesseraError(.internalError, details: "A StorageCommitmentScu job's request is incomplete")
        }
        let remote = try ModalityConfiguration(json: remoteJSON)
        let instances = items.compactMap { item -> StorageCommitmentReport.Reference? in
            guard case .array(let pair) = item, pair.count == 2, let sopClass = pair[0].stringValue,
                  let sopInstance = pair[1].stringValue else { return nil }
            return StorageCommitmentReport.Reference(sopClassUID: sopClass, sopInstanceUID: sopInstance)
        }
        let peer = try associations.peer(remote, callingAET: localAet, timeoutSeconds: timeout, maximumPDU: maximumPDU)
        try await Self.request(transaction, peer: peer, instances: instances, commitments: commitments, associations: associations)
        return .success(.object([:]))
    }

    /// Records the transaction as pending, then sends its N-ACTION (Orthanc's order: a report arriving at once finds
    /// its transaction). A refusal fails with Orthanc's wording.
    static func request(_ transaction: String, peer: StoreSCU.Peer, instances: [StorageCommitmentReport.Reference],
                        commitments: StorageCommitmentStore, associations: AssociationPool) async throws {
        if let empty = instances.first(where: { $0.sopClassUID.isEmpty || $0.sopInstanceUID.isEmpty }) {
            throw TesseraError(.parameterOutOfRange, details: "The SOP class/instance UIDs cannot be empty, found: \"\(empty.sopClassUID)\" / \"\(empty.sopInstanceUID)\"")
        }
        try commitments.recordPending(transaction, remoteAET: peer.calledAET)
        let status = try await associations.blocking { () throws(TesseraError) -> UInt16 in
            try StorageCommitmentSCU.request(peer: peer, transactionUID: transaction, instances: instances)
        }
        guard status == 0 else {
            throw TesseraError(.networkProtocol, details: "Storage commitment - The request cannot be handled by remote AET: \(peer.calledAET)"
                               + " (DIMSE status 0x" + String(status, radix: 16, uppercase: true) + ")")
        }
    }
}
