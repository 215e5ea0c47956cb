import DICOM
import Logging
import Model
import Storage

/// The C-GET SCP: the matched instances go back to the requester with C-STORE on its own association (the storage
/// contexts it proposed in the SCP role; a compressed file is decompressed when only an uncompressed syntax was
/// accepted), a pending response after each. A sub-operation that fails is counted and listed, and the next goes on;
/// the final status is Success, 0xB000 with FailedSOPInstanceUIDList when some failed or warned, 0xA702 when all
/// failed.
public struct DicomGetHandler: Sendable {
    let targets: RetrieveTargets
    let blobs: BlobStore
    let logger: Logger

    public init(targets: RetrieveTargets, blobs: BlobStore, logger: Logger) {
        self.targets = targets
        self.blobs = blobs
        self.logger = logger
    }

    public func handle(_ request: QueryRetrieveRequest, responder: QueryRetrieveResponder) async -> QueryRetrieveOutcome {
        let metadata: Logger.Metadata = ["callingAET": "\(request.callingAET)"]
        let resolved: RetrieveTargets.Resolved
        do {
            resolved = try await targets.resolve(try DicomQuery(identifier: request.identifier), for: .get)
        } catch let error as TesseraError {
            logger.info("C-GET refused", metadata: metadata.merging(["error": "\(error.details ?? error.message)"]) { $1 })
            return .failure(.unableToProcess, error.details ?? error.message)
        } catch {
            logger.error("C-GET failed", metadata: metadata.merging(["error": "\(error)"]) { $1 })
            return .failure(.retrieveCannotCount, "The index could not be queried")
        }
        let total = resolved.instances.count
        var completed = 0, warning = 0
        var failedUIDs: [String] = []
        for (index, target) in resolved.instances.enumerated() {
            let path = blobs.path(of: target.file)
            let outcome: QueryRetrieveResponder.SubOperation = blobs.exists(target.file)
                ? await responder.store(path: path) : .notSent("the stored file is missing")
            switch outcome {
            case .answered(let status) where status == .success:
                completed += 1
            case .answered(let status) where (0xB000...0xBFFF).contains(status.rawValue):
                warning += 1
            case .answered(let status):
                logger.info("C-GET sub-operation refused", metadata: metadata.merging(["status": "\(status)"]) { $1 })
                failedUIDs.append(target.sopInstanceUID)
            case .notSent(let reason):
                logger.warning("C-GET sub-operation not sent", metadata: metadata.merging(["error": "\(reason)"]) { $1 })
                failedUIDs.append(target.sopInstanceUID)
            case .broken(let reason):
                logger.info("C-GET association lost", metadata: metadata.merging(["error": "\(reason)"]) { $1 })
                return QueryRetrieveOutcome(status: .unableToProcess)
            }
            let done = index + 1
            guard done < total else { break }
            switch await responder.pending(remaining: total - done, completed: completed, failed: failedUIDs.count, warning: warning) {
            case .sent: continue
            case .canceled:
                return QueryRetrieveOutcome(status: .cancel, remaining: total - done, completed: completed,
                                            failed: failedUIDs.count, warning: warning, failedUIDs: failedUIDs)
            case .broken:
                return QueryRetrieveOutcome(status: .unableToProcess)
            }
        }
        let status: DimseStatus = failedUIDs.count == total && total > 0 ? .retrieveCannotPerform
            : failedUIDs.isEmpty && warning == 0 ? .success : .subOperationsFailed
        return QueryRetrieveOutcome(status: status, completed: completed, failed: failedUIDs.count, warning: warning,
                                    failedUIDs: failedUIDs)
    }
}
