import Foundation
import Hummingbird
import Index
import Indexing
import Jobs
import Model
import Storage

/// Storage commitment as a service user, as Orthanc 1.6+: `POST /modalities/{id}/storage-commitment` (the N-ACTION,
/// run by a worker as a hidden job, after the transaction is recorded as pending), `GET /storage-commitment/{id}` (the
/// report, completed by the gateway when the peer's N-EVENT-REPORT arrives) and `POST /storage-commitment/{id}/remove`
/// (deletes the instances the peer committed to).
struct StorageCommitmentRoutes {
    let registry: ModalityRegistry
    let submitter: JobSubmitter
    let selection: ResourceSelection
    let instances: InstanceQueries
    let commitments: StorageCommitmentStore
    let finder: ResourceFinder
    let deleter: ResourceDeleter
    let reaper: BlobReaper
    let configuration: TesseraConfiguration

    func add(to router: Router<APIRequestContext>) {
        router.post("/modalities/{id}/storage-commitment") { request, context in
            let name = try EndpointRoutes<ModalityConfiguration>.name(context)
            let remote = try await registry.endpoint(name)
            let body = try await EndpointRoutes<ModalityConfiguration>.json(request)
            guard case .object = body else {
                throw TesseraError(.badFileFormat, details: "Must provide a JSON object with a list of resources")
            }
            guard body["Resources"] != nil || body["DicomInstances"] != nil else {
                throw TesseraError(.badFileFormat, details: "Empty storage commitment request, one of these fields is mandatory: \"Resources\" or \"DicomInstances\"")
            }
            var references = try await resourceReferences(body["Resources"])
            references += try Self.dicomInstances(body["DicomInstances"])
            let transaction = StorageCommitmentReport.newTransactionUID()
            // As Orthanc: our own DicomAet (not the modality's LocalAet).
            let id = try await submitter.submit(.init(
                type: StorageCommitmentJob.type, hidden: true,
                request: StorageCommitmentJob.request(remote: remote, localAet: configuration.dicomAet,
                                                      timeoutSeconds: try ScuDefaults(configuration).timeout(body: body, remote: remote),
                                                      transactionUID: transaction, instances: references),
                content: .object([:])))
            _ = try await submitter.wait(id)
            return OrthancJSON.response(.object(["ID": .string(transaction), "Path": .string("/storage-commitment/\(transaction)")]))
        }
        router.get("/storage-commitment/{id}") { _, context in
            OrthancJSON.response(try report(context).json)
        }
        router.post("/storage-commitment/{id}/remove") { _, context in
            let report = try report(context)
            guard report.status == .success else {
                // Orthanc answers this one with HTTP 500 (its BadSequenceOfCalls has no HTTP status of its own).
                let code = OrthancErrorCode(code: OrthancErrorCode.badSequenceOfCalls.code,
                                            description: OrthancErrorCode.badSequenceOfCalls.description, httpStatus: 500)
                throw TesseraError(code, details: "Cannot remove DICOM instances after failure in storage commitment transaction: \(report.transactionUID)")
            }
            for reference in report.succeeded {
                for (level, id) in try await finder.lookup(reference.sopInstanceUID) where level == .instance {
                    _ = try await deleter.delete(.instance, id)
                }
            }
            do {
                try await reaper.sweep()
            } catch {
                context.logger.warning("Blob removal after a deletion failed; the background sweep will retry", metadata: ["error": "\(error)"])
            }
            return OrthancJSON.response(.object([:]))
        }
    }

    private func report(_ context: APIRequestContext) throws -> StorageCommitmentReport {
        let id = context.parameters.get("id") ?? ""
        guard let report = commitments.report(id) else {
            throw TesseraError(.inexistentItem, details: "No storage commitment transaction with UID: \(id)")
        }
        return report
    }

    /// `Resources`: Orthanc IDs at any level, each instance below with its SOP class and instance UIDs.
    private func resourceReferences(_ value: JSONValue?) async throws -> [StorageCommitmentReport.Reference] {
        guard let value else { return [] }
        guard case .array(let items) = value else {
            throw TesseraError(.badFileFormat, details: "The \"Resources\" field must provide an array of Orthanc resources")
        }
        var ids: [PublicID] = []
        for item in items {
            guard let text = item.stringValue else {
                throw TesseraError(.badFileFormat, details: "The \"Resources\" field must provide an array of strings, found: \(item.compactText)")
            }
            guard let id = PublicID(validating: text) else { throw TesseraError(.unknownResource, details: "Unknown resource: \(text)") }
            ids.append(id)
        }
        let below = try await selection.instances(below: ids)
        let records = try await instances.records(ids: below)
        return try below.map { id throws(TesseraError) -> StorageCommitmentReport.Reference in
            guard let record = records[id], let sopClass = record.sopClassUID, let sopInstance = record.mainTags["SOPInstanceUID"] else {
                throw TesseraError(.internalError, details: "Cannot retrieve SOP Class/Instance UID of Orthanc instance: \(id.value)")
            }
            return StorageCommitmentReport.Reference(sopClassUID: sopClass, sopInstanceUID: sopInstance)
        }
    }

    /// `DicomInstances`: `[class, instance]` pairs or `{SOPClassUID, SOPInstanceUID}` objects.
    static func dicomInstances(_ value: JSONValue?) throws(TesseraError) -> [StorageCommitmentReport.Reference] {
        guard let value else { return [] }
        guard case .array(let items) = value else {
            throw TesseraError(.badFileFormat, details: "The \"DicomInstances\" field must provide an array of DICOM instances")
        }
        return try items.map { item throws(TesseraError) -> StorageCommitmentReport.Reference in
            switch item {
            case .array(let pair):
                guard pair.count == 2, let sopClass = pair[0].stringValue, let sopInstance = pair[1].stringValue else {
                    throw TesseraError(.badFileFormat, details: "An instance entry must provide an array with 2 strings: SOP Class UID and SOP Instance UID")
                }
                return .init(sopClassUID: sopClass, sopInstanceUID: sopInstance)
            case .object:
                guard let sopClass = item["SOPClassUID"]?.stringValue, let sopInstance = item["SOPInstanceUID"]?.stringValue else {
                    throw TesseraError(.badFileFormat, details: "An instance entry must provide an object with 2 string fields: \"SOPClassUID\" and \"SOPInstanceUID\"")
                }
                return .init(sopClassUID: sopClass, sopInstanceUID: sopInstance)
            default:
                throw TesseraError(.badFileFormat, details: "JSON array or object is expected to specify one instance to be queried, found: \(item.compactText)")
            }
        }
    }
}
