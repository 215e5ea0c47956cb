import Foundation
import Hummingbird
import Index
import Jobs
import Model

/// `/modalities`: the remote modalities (configuration file and database, seen by every replica), and the SCU
/// operations, each run by a worker as a job: `echo` (a hidden job) and `store` (`DicomModalityStore`, synchronous by
/// default, as Orthanc).
struct ModalityRoutes {
    let registry: ModalityRegistry
    let submitter: JobSubmitter
    let selection: ExportSelection
    let straight: StraightUpload
    let configuration: TesseraConfiguration

    /// The operations `GET /modalities/{id}` lists: the ones Tessera serves.
    static let operations = ["configuration", "echo", "find", "find-instance", "find-patient", "find-series", "find-study", "get",
                             "move", "query", "storage-commitment", "store", "store-straight"]

    func add(to router: Router<APIRequestContext>) {
        EndpointRoutes(registry: registry, operations: Self.operations).add(to: router)
        router.post("/modalities/{id}/echo") { request, context in
            let remote = try await registry.endpoint(try name(context))
            let body = try await EndpointRoutes<ModalityConfiguration>.json(request, emptyAs: .object([:]))
            guard case .object = body else { throw TesseraError(.badFileFormat, details: "Must provide a JSON object") }
            var checkFind = configuration.dicomEchoChecksFind
            if let value = body["CheckFind"] {
                guard case .bool(let flag) = value else { throw TesseraError(.badFileFormat, details: "Boolean value expected in field: CheckFind") }
                checkFind = flag
            }
            let id = try await submitter.submit(.init(
                type: ModalityEchoJob.type, hidden: true,
                request: ModalityEchoJob.request(remote: remote, localAet: ScuDefaults(configuration).localAet(body: body, remote: remote),
                                                 timeoutSeconds: try ScuDefaults(configuration).timeout(body: body, remote: remote),
                                                 checkFind: checkFind),
                content: .object([:])))
            _ = try await submitter.wait(id)
            return OrthancJSON.response(.object([:]))
        }
        router.post("/modalities/{id}/store-straight") { request, context in
            let remote = try await registry.endpoint(try name(context))
            let file = try await straight.receive(request)
            let defaults = ScuDefaults(configuration)
            let answer: JSONValue = .object([
                "SOPClassUID": .string(file.summary.sopClassUID ?? ""),
                "SOPInstanceUID": .string(file.summary.identifiers.sopInstanceUID),
            ])
            return OrthancJSON.response(try await straight.send(file, type: StraightStoreJob.modalityType, request: .object([
                "Remote": remote.json, "LocalAet": .string(defaults.localAet(body: .object([:]), remote: remote)),
                "Timeout": .number(Double(try defaults.timeout(body: .object([:]), remote: remote))),
                "SOPClassUID": .string(file.summary.sopClassUID ?? ""),
                "TransferSyntax": .string(file.summary.transferSyntaxUID ?? "1.2.840.10008.1.2"), "Answer": answer,
            ]), submitter: submitter))
        }
        router.post("/modalities/{id}/store") { request, context in
            let modalityName = try name(context)
            var remote = try await registry.endpoint(modalityName)
            let body = try await selection.body(request)
            let options = try JobOptions(body, synchronousByDefault: true)
            var commitment = false
            if let value = body["StorageCommitment"] {
                guard case .bool(let flag) = value else { throw TesseraError(.badFileFormat, details: "Boolean value expected in field: StorageCommitment") }
                commitment = flag
            }
            if let called = body["CalledAet"]?.stringValue { remote.aet = called }
            if let host = body["Host"]?.stringValue { remote.host = host }
            if let port = body["Port"]?.intValue { remote.port = port }
            let (requested, ids) = try await selection.resolve(body, exportedTo: modalityName)
            let moveOriginatorID = try body["MoveOriginatorID"].map { value throws(TesseraError) -> Int in
                guard let number = value.intValue, (0...65_535).contains(number) else {
                    throw TesseraError(.badFileFormat, details: "MoveOriginatorID must be an integer between 0 and 65535")
                }
                return number
            }
            let storeRequest = ModalityStoreRequest(
                modalityName: modalityName, remote: remote, localAet: ScuDefaults(configuration).localAet(body: body, remote: remote),
                timeoutSeconds: try ScuDefaults(configuration).timeout(body: body, remote: remote),
                moveOriginatorAet: body["MoveOriginatorAet"]?.stringValue, moveOriginatorID: moveOriginatorID,
                permissive: options.permissive, parentResources: requested, instances: ids,
                storageCommitmentTransactionUID: commitment ? StorageCommitmentReport.newTransactionUID() : nil)
            let id = try await submitter.submit(.init(
                type: ModalityStoreRequest.type, priority: options.priority, request: storeRequest.json,
                content: storeRequest.content(failed: 0), userData: options.userData))
            guard options.synchronous else { return OrthancJSON.response(options.asynchronousAnswer(id)) }
            return OrthancJSON.response(try await submitter.wait(id))
        }
    }

    private func name(_ context: APIRequestContext) throws -> String {
        try EndpointRoutes<ModalityConfiguration>.name(context)
    }
}
