import DICOM
import Index
import Jobs
import Logging
import Model

/// The C-MOVE SCP: the destination is a known modality (by AE title, configuration or database); the instances go
/// to it as a `DicomModalityStore` job run by a worker, with the requester's AE title and message ID as Move
/// Originator. With `SynchronousCMove` (the default) the association waits for the job, with pending responses
/// carrying the sub-operation counts, and the final response counts every instance (failed ones listed); otherwise the
/// job is queued and the C-MOVE succeeds at once, as Orthanc answers it.
public struct DicomMoveHandler: Sendable {
    let targets: RetrieveTargets
    let directory: ModalityDirectory
    let submitter: JobSubmitter
    let settings: QueryRetrieveSettings
    let logger: Logger

    public init(targets: RetrieveTargets, directory: ModalityDirectory, submitter: JobSubmitter,
                settings: QueryRetrieveSettings, logger: Logger) {
        self.targets = targets
        self.directory = directory
        self.submitter = submitter
        self.settings = settings
        self.logger = logger
    }

    /// A pending response goes at least this often while the job runs, so that the requester sees it alive.
    static let heartbeat = Duration.seconds(20)

    public func handle(_ request: QueryRetrieveRequest, responder: QueryRetrieveResponder) async -> QueryRetrieveOutcome {
        var metadata: Logger.Metadata = ["callingAET": "\(request.callingAET)", "destination": "\(request.moveDestination)"]
        guard let (name, modality) = settings.access.modality(aet: request.moveDestination, in: directory.modalities) else {
            logger.info("C-MOVE to an unknown destination refused", metadata: metadata)
            return .failure(.moveDestinationUnknown, "Unknown modality for AET: \(request.moveDestination)")
        }
        let resolved: RetrieveTargets.Resolved
        do {
            resolved = try await targets.resolve(try DicomQuery(identifier: request.identifier), for: .move)
        } catch let error as TesseraError {
            logger.info("C-MOVE refused", metadata: metadata.merging(["error": "\(error.details ?? error.message)"]) { $1 })
            return .failure(.unableToProcess, error.details ?? error.message)
        } catch {
            logger.error("C-MOVE failed", metadata: metadata.merging(["error": "\(error)"]) { $1 })
            return .failure(.retrieveCannotCount, "The index could not be queried")
        }
        let total = resolved.instances.count
        let store = ModalityStoreRequest(
            modalityName: name, remote: modality,
            localAet: modality.localAet.isEmpty ? settings.aeTitle : modality.localAet,
            timeoutSeconds: modality.timeout > 0 ? modality.timeout : settings.scuTimeoutSeconds,
            moveOriginatorAet: request.callingAET, moveOriginatorID: Int(request.messageID),
            permissive: settings.synchronousMove, parentResources: resolved.resources.map(\.value).sorted(),
            instances: resolved.instances.map(\.id), description: "C-MOVE")
        let id: String
        do {
            id = try await submitter.submit(.init(type: ModalityStoreRequest.type, hidden: settings.synchronousMove,
                                                  request: store.json, content: store.content(failed: 0)))
        } catch {
            logger.error("C-MOVE job not submitted", metadata: metadata.merging(["error": "\(error)"]) { $1 })
            return .failure(.retrieveCannotPerform, "The job could not be submitted")
        }
        metadata["job"] = "\(id)"
        guard settings.synchronousMove else {
            logger.info("C-MOVE queued as a job", metadata: metadata)
            return QueryRetrieveOutcome(status: .success, completed: total)
        }
        return await follow(id, total: total, targets: resolved.instances, responder: responder, metadata: metadata)
    }

    /// Waits for the job, sending pending responses as its cursor moves; the final response from its outcome.
    func follow(_ id: String, total: Int, targets: [RetrieveTargets.Target], responder: QueryRetrieveResponder,
                metadata: Logger.Metadata) async -> QueryRetrieveOutcome {
        var sent = (position: -1, failed: -1)
        var lastSent = ContinuousClock.now
        var canceled = false
        do {
            let job = try await submitter.watch(id) { job in
                let position = job.cursor["Position"]?.intValue ?? 0
                let failed = Self.failed(job.cursor).count
                guard (position, failed) != sent || ContinuousClock.now - lastSent > Self.heartbeat else { return true }
                sent = (position, failed)
                lastSent = ContinuousClock.now
                switch await responder.pending(remaining: total - position, completed: position - failed, failed: failed, warning: 0) {
                case .sent: return true
                case .canceled, .broken:
                    canceled = true
                    return false
                }
            }
            _ = try? await submitter.remove(id)
            let failedIDs = Set(Self.failed(job.cursor))
            let failedUIDs = targets.filter { failedIDs.contains($0.id.value) }.map(\.sopInstanceUID)
            let position = job.cursor["Position"]?.intValue ?? 0
            if canceled {
                logger.info("C-MOVE canceled by the requester", metadata: metadata)
                return QueryRetrieveOutcome(status: .cancel, remaining: total - position, completed: position - failedIDs.count,
                                            failed: failedIDs.count, failedUIDs: failedUIDs)
            }
            guard job.state == .success else {
                // The association to the destination failed: the instances not sent count as failed.
                let unsent = targets.dropFirst(position).map(\.sopInstanceUID)
                logger.warning("C-MOVE failed", metadata: metadata.merging(["error": "\(job.errorDetails ?? job.errorDescription)"]) { $1 })
                return QueryRetrieveOutcome(status: .retrieveCannotPerform, completed: position - failedIDs.count,
                                            failed: failedIDs.count + unsent.count, failedUIDs: failedUIDs + unsent,
                                            errorComment: job.errorDetails ?? job.errorDescription)
            }
            let completed = total - failedIDs.count
            logger.info("C-MOVE done", metadata: metadata.merging(["completed": "\(completed)", "failed": "\(failedIDs.count)"]) { $1 })
            if failedIDs.isEmpty { return QueryRetrieveOutcome(status: .success, completed: completed) }
            return QueryRetrieveOutcome(status: completed == 0 ? .retrieveCannotPerform : .subOperationsFailed,
                                        completed: completed, failed: failedIDs.count, failedUIDs: failedUIDs)
        } catch {
            logger.error("C-MOVE not completed", metadata: metadata.merging(["error": "\(error)"]) { $1 })
            return .failure(.retrieveCannotPerform, (error as? TesseraError)?.details ?? "The job could not be followed")
        }
    }

    static func failed(_ cursor: JSONValue) -> [String] {
        guard case .array(let items)? = cursor["Failed"] else { return [] }
        return items.compactMap(\.stringValue)
    }
}
