import DICOM
import Index
import Logging
import Model
import Storage

/// Runs `DicomModalityStore` jobs: C-STORE of each instance, in order, on one association (reopened only when the
/// next files need presentation contexts it did not propose, or after a failure), through ``InstanceSendLoop``. With
/// storage commitment, once every instance was sent, the transaction is recorded as pending and its N-ACTION sent
/// (``StorageCommitmentJob/request(_:peer:instances:commitments:associations:)``), as Orthanc does.
public struct ModalityStoreJob: JobHandler {
    let loop: InstanceSendLoop
    let instances: InstanceQueries
    let blobs: BlobStore
    let associations: AssociationPool
    let commitments: StorageCommitmentStore
    let maximumPDU: Int

    /// `TranscodeDicomProtocol`: false, no file is decompressed for any modality (as each one's AllowTranscoding false).
    let transcodeDicomProtocol: Bool

    public init(instances: InstanceQueries, blobs: BlobStore, associations: AssociationPool, commitments: StorageCommitmentStore,
                maximumPDU: Int, transcodeDicomProtocol: Bool = true, logger: Logger) {
        self.transcodeDicomProtocol = transcodeDicomProtocol
        self.loop = InstanceSendLoop(instances: instances, logger: logger)
        self.instances = instances
        self.blobs = blobs
        self.associations = associations
        self.commitments = commitments
        self.maximumPDU = maximumPDU
    }

    public var type: String { ModalityStoreRequest.type }

    public func run(_ job: JobRecord, context: JobContext) async throws -> JobResult {
        let request = try ModalityStoreRequest(json: job.request)
        var peer = try associations.peer(request.remote, callingAET: request.localAet, timeoutSeconds: request.timeoutSeconds,
                                         maximumPDU: maximumPDU)
        peer.allowsTranscoding = transcodeDicomProtocol && request.remote.allowTranscoding
        let current = CurrentAssociation()
        defer {
            if let association = current.lease?.association { Task { await associations.giveBack(association) } }
        }
        let result = try await loop.run(job, context: context, ids: request.instances, permissive: request.permissive,
                                  content: { request.content(failed: $0.failed.count) }) { id, record, upcoming in
            guard let record else {
                throw TesseraError(.unknownResource, details: "Instance \(id.value) was deleted before it could be sent")
            }
            let file = Self.context(of: record)
            if let association = current.lease?.association, !(association.isOpen && association.covers(file)) {
                await associations.giveBack(association)
                current.lease = nil
            }
            let lease: AssociationPool.Lease
            if let open = current.lease {
                lease = open
            } else {
                // The file's context, then those of the next files, up to what one association may propose.
                var contexts: Set<StoreSCU.Context> = [file]
                for next in upcoming.compactMap({ $0 }) where contexts.count < StoreSCU.maximumContextsPerAssociation {
                    contexts.insert(Self.context(of: next))
                }
                lease = try await associations.lease(to: peer, contexts: contexts)
            }
            let path = blobs.path(of: record.fileUUID)
            do {
                let (outcome, used) = try await associations.store(lease, path: path, moveOriginatorAET: request.moveOriginatorAet,
                                                                   moveOriginatorID: UInt16(clamping: request.moveOriginatorID ?? 0))
                current.lease = used
                try Self.check(outcome, remoteAet: request.remote.aet)
            } catch {
                if !lease.association.isOpen { current.lease = nil }
                throw error
            }
            return record.fileSize
        }
        // As Orthanc: the commitment is asked only when every instance went (none failed in permissive mode).
        guard case .success(let content) = result, let transaction = request.storageCommitmentTransactionUID,
              content["FailedInstancesCount"]?.intValue ?? 0 == 0 else { return result }
        let records = try await instances.records(ids: request.instances)
        let references = request.instances.compactMap { id in
            records[id].map { StorageCommitmentReport.Reference(sopClassUID: $0.sopClassUID ?? "", sopInstanceUID: $0.mainTags["SOPInstanceUID"] ?? "") }
        }
        try await StorageCommitmentJob.request(transaction, peer: peer, instances: references, commitments: commitments,
                                               associations: associations)
        return result
    }

    private static func context(of record: InstanceRecord) -> StoreSCU.Context {
        StoreSCU.Context(sopClass: record.sopClassUID ?? "", transferSyntax: record.transferSyntaxUID ?? "")
    }

    /// Success and warning statuses pass; anything else is an error as Orthanc words it.
    static func check(_ outcome: StoreSCU.Outcome, remoteAet: String) throws(TesseraError) {
        switch outcome {
        case .answered(let status):
            guard !DimseStatus(rawValue: status).isFailure else {
                throw TesseraError(.networkProtocol, details: "C-STORE SCU to AET \"\(remoteAet)\" has failed with DIMSE status 0x"
                                   + String(status, radix: 16, uppercase: true))
            }
        case .cannotTranscode(let details):
            throw TesseraError(.notImplemented, details: details)
        case .noContext(let details):
            throw TesseraError(.networkProtocol, details: "DicomAssociation - C-STORE to AET \"\(remoteAet)\": \(details)")
        case .unreadable(let details):
            throw TesseraError(.inexistentFile, details: details)
        }
    }
}

/// The association a store job holds between two instances.
private final class CurrentAssociation: @unchecked Sendable {
    var lease: AssociationPool.Lease?
}
