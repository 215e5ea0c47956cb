import DICOM
import Index
import Logging
import Model
import Storage

/// Runs `DicomModalityStore` jobs: C-STORE of each instance, in order, on one association (reopened only when the
/// next files need presentation contexts it did not propose, or after a failure). The cursor is the position of the
/// first instance the peer has not acknowledged and the instances that failed, recorded after each answer, so a
/// resumed job sends nothing twice except the one instance in flight when its worker died.
public struct ModalityStoreJob: JobHandler {
    let instances: InstanceQueries
    let blobs: BlobStore
    let associations: AssociationPool
    let maximumPDU: Int
    let logger: Logger

    public init(instances: InstanceQueries, blobs: BlobStore, associations: AssociationPool, maximumPDU: Int, logger: Logger) {
        self.instances = instances
        self.blobs = blobs
        self.associations = associations
        self.maximumPDU = maximumPDU
        self.logger = logger
    }

    public var type: String { ModalityStoreRequest.type }

    /// Files looked up in the index per query.
    static let batchSize = 500

    public func run(_ job: JobRecord, context: JobContext) async throws -> JobResult {
        let request = try ModalityStoreRequest(json: job.request)
        var position = job.cursor["Position"]?.intValue ?? 0
        var failed: [String] = {
            guard case .array(let items)? = job.cursor["Failed"] else { return [] }
            return items.compactMap(\.stringValue)
        }()
        let peer = StoreSCU.Peer(host: request.remote.host, port: request.remote.port, calledAET: request.remote.aet,
                                 callingAET: request.localAet, timeoutSeconds: request.timeoutSeconds, maximumPDU: maximumPDU)
        var association: StoreSCU?
        defer {
            if let association { Task { await associations.giveBack(association) } }
        }
        while position < request.instances.count {
            let batch = Array(request.instances[position..<min(request.instances.count, position + Self.batchSize)])
            let records = try await instances.records(ids: batch)
            for id in batch {
                if let reason = context.stopReason { return .stopped(reason) }
                do {
                    guard let record = records[id] else {
                        throw TesseraError(.unknownResource, details: "Instance \(id.value) was deleted before it could be sent")
                    }
                    let file = StoreSCU.Context(sopClass: record.sopClassUID ?? "", transferSyntax: record.transferSyntaxUID ?? "")
                    if let current = association, !(current.isOpen && current.covers(file)) {
                        await associations.giveBack(current)
                        association = nil
                    }
                    if association == nil {
                        association = try await associations.association(
                            to: peer, contexts: contexts(from: position, of: request, records: records, first: file))
                    }
                    guard let current = association else { continue }
                    let path = blobs.path(of: record.fileUUID)
                    let originator = request.moveOriginatorAet
                    let originatorID = UInt16(clamping: request.moveOriginatorID ?? 0)
                    let outcome = try await associations.blocking { () throws(TesseraError) -> StoreSCU.Outcome in
                        try current.store(path: path, moveOriginatorAET: originator, moveOriginatorID: originatorID)
                    }
                    try check(outcome, request: request)
                } catch let error as TesseraError {
                    if error.code == .networkProtocol, let current = association {
                        current.close(abort: true)
                        association = nil
                    }
                    guard request.permissive else { throw error }
                    logger.warning("Instance not sent (permissive job)", metadata: [
                        "job": "\(job.id)", "instance": "\(id.value)", "error": "\(error)"])
                    failed.append(id.value)
                }
                position += 1
                let progress = request.instances.isEmpty ? 100 : position * 100 / request.instances.count
                if let reason = try await context.record(
                    cursor: .object(["Position": .number(Double(position)), "Failed": .array(failed.map(JSONValue.string))]),
                    content: request.content(failed: failed.count), progress: progress) {
                    return .stopped(reason)
                }
            }
        }
        return .success(request.content(failed: failed.count))
    }

    /// The contexts to propose: the file's, then those of the next files, up to what one association may propose.
    private func contexts(from position: Int, of request: ModalityStoreRequest, records: [PublicID: InstanceRecord],
                          first: StoreSCU.Context) -> Set<StoreSCU.Context> {
        var contexts: Set<StoreSCU.Context> = [first]
        for id in request.instances[position...] {
            guard contexts.count < StoreSCU.maximumContextsPerAssociation else { break }
            guard let record = records[id] else { continue }
            contexts.insert(StoreSCU.Context(sopClass: record.sopClassUID ?? "", transferSyntax: record.transferSyntaxUID ?? ""))
        }
        return contexts
    }

    /// Success and warning statuses pass; anything else is an error as Orthanc words it.
    private func check(_ outcome: StoreSCU.Outcome, request: ModalityStoreRequest) throws(TesseraError) {
        switch outcome {
        case .answered(let status):
            guard !DimseStatus(rawValue: status).isFailure else {
                throw TesseraError(.networkProtocol, details: "C-STORE SCU to AET \"\(request.remote.aet)\" has failed with DIMSE status 0x"
                                   + String(status, radix: 16, uppercase: true))
            }
        case .cannotTranscode(let details):
            throw TesseraError(.notImplemented, details: details)
        case .noContext(let details):
            throw TesseraError(.networkProtocol, details: "DicomAssociation - C-STORE to AET \"\(request.remote.aet)\": \(details)")
        case .unreadable(let details):
            throw TesseraError(.inexistentFile, details: details)
        }
    }
}
