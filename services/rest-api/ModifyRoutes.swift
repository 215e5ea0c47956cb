import DICOM
import Foundation
import Hummingbird
import Index
import Jobs
import Model
import Modification
import Storage

/// `POST /instances/{id}/modify`: the instance's file with Replace, Remove, Keep, RemovePrivateTags and Force applied
/// as Orthanc applies them (a new SOP Instance UID unless kept, new parents' UIDs when their identifiers change),
/// answered as a DICOM file; nothing is stored. `POST /patients|studies|series/{id}/modify`: a `ResourceModification`
/// job that stores the modified instances as new resources (synchronous by default, as Orthanc).
struct ModifyRoutes {
    let instances: InstanceQueries
    let resources: ResourceQueries
    let selection: ResourceSelection
    let submitter: JobSubmitter
    let blobs: BlobStore
    let modifier: InstanceModifier
    /// The N of generated `Anonymized<N>` patient names.
    let sequence: AnonymizationSequence
    var maximumBodySize = 16 << 20

    func add(to router: Router<APIRequestContext>) {
        addBulk(to: router)
        router.post("/instances/{id}/modify") { request, context in
            var request = request
            guard let id = context.publicID, let record = try await instances.instance(id) else {
                throw TesseraError(.unknownResource)
            }
            let buffer = try await request.collectBody(upTo: maximumBodySize)
            guard let body = try? JSONValue.parse(Data(buffer: buffer)) else {
                throw TesseraError(.badFileFormat, details: "The body of a modification must be a JSON object")
            }
            let modification = try ModifyRequest.parse(body)
            let modifier = self.modifier
            let bytes = try await blobs.withBlob(record.fileUUID) { path throws(TesseraError) in
                try modifier.modify(try DicomFile(path: path, maxReadLength: .max), with: modification)
            }
            return Response(status: .ok, headers: [.contentType: "application/dicom"],
                            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        router.post("/instances/{id}/anonymize") { request, context in
            var request = request
            guard let id = context.publicID, let record = try await instances.instance(id) else {
                throw TesseraError(.unknownResource)
            }
            var anonymization = try ModifyRequest.parseAnonymization(try await body(of: &request))
            if anonymization.generatesPatientName {
                anonymization.setGeneratedPatientName(try await sequence.nextPatientName())
            }
            let modifier = self.modifier, plan = anonymization
            let bytes = try await blobs.withBlob(record.fileUUID) { path throws(TesseraError) in
                try modifier.modify(try DicomFile(path: path, maxReadLength: .max), with: plan)
            }
            return Response(status: .ok, headers: [.contentType: "application/dicom"],
                            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        for level in [ResourceLevel.patient, .study, .series] {
            router.post(RouterPath("/\(level.collection)/{id}/anonymize")) { request, context in
                var request = request
                guard let id = context.publicID, try await resources.key(of: id, at: level) != nil else {
                    throw TesseraError(.unknownResource)
                }
                let body = try await body(of: &request)
                let anonymization = try ModifyRequest.parseAnonymization(body)
                let name = anonymization.generatesPatientName ? try await sequence.nextPatientName() : nil
                return try await submit(level, id, instances: try await selection.instances(below: [id]), body: body,
                                        anonymization: true, patientName: name)
            }
        }
        for level in [ResourceLevel.patient, .study, .series] {
            router.post(RouterPath("/\(level.collection)/{id}/modify")) { request, context in
                var request = request
                guard let id = context.publicID, try await resources.key(of: id, at: level) != nil else {
                    throw TesseraError(.unknownResource)
                }
                let body = try await body(of: &request)
                _ = try ModifyRequest.parse(body, resourceLevel: level)
                return try await submit(level, id, instances: try await selection.instances(below: [id]), body: body,
                                        anonymization: false, patientName: nil)
            }
        }
    }

    /// `/tools/bulk-modify` and `/tools/bulk-anonymize` (Orthanc 1.9.4, `Level` 1.9.7): one job over the instances of
    /// every resource in `Resources`, answering the resources it made.
    func addBulk(to router: Router<APIRequestContext>) {
        router.post("/tools/bulk-modify") { request, _ in
            var request = request
            let body = try await body(of: &request)
            let modification = try ModifyRequest.parse(body)
            var level = modification.level
            if let value = body["Level"] {
                guard let text = value.stringValue, let named = ResourceLevel(orthancName: text) else {
                    throw TesseraError(.parameterOutOfRange, details: "Unknown resource type: \(body["Level"]?.stringValue ?? "")")
                }
                level = named
            }
            return try await submitBulk(level, body: body, anonymization: false, patientName: nil)
        }
        router.post("/tools/bulk-anonymize") { request, _ in
            var request = request
            let body = try await body(of: &request)
            let anonymization = try ModifyRequest.parseAnonymization(body)
            let name = anonymization.generatesPatientName ? try await sequence.nextPatientName() : nil
            return try await submitBulk(.instance, body: body, anonymization: true, patientName: name)
        }
    }

    /// Submits a bulk `ResourceModification` job; every resource must exist (404 otherwise, as Orthanc).
    private func submitBulk(_ level: ResourceLevel, body: JSONValue, anonymization: Bool, patientName: String?) async throws -> Response {
        var ids: [PublicID] = []
        for name in try StudyRestructuringRoutes.strings(body, "Resources") {
            guard let id = PublicID(validating: name), try await resources.level(of: id) != nil else {
                throw TesseraError(.unknownResource)
            }
            if !ids.contains(id) { ids.append(id) }
        }
        return try await submit(level, nil, instances: try await selection.instances(below: ids), body: body,
                                anonymization: anonymization, patientName: patientName)
    }

    /// The request's JSON object (Orthanc's "Bad file format" for anything else).
    private func body(of request: inout Request) async throws -> JSONValue {
        let buffer = try await request.collectBody(upTo: maximumBodySize)
        guard let body = try? JSONValue.parse(Data(buffer: buffer)), case .object = body else {
            throw TesseraError(.badFileFormat, details: "The body of a modification must be a JSON object")
        }
        return body
    }

    /// Submits the `ResourceModification` job of a patient, study or series and answers as Orthanc: its content once
    /// done (synchronous by default), or its ID.
    private func submit(_ level: ResourceLevel, _ id: PublicID?, instances: [PublicID], body: JSONValue, anonymization: Bool,
                        patientName: String?) async throws -> Response {
        var keepSource = true
        if let value = body["KeepSource"] {
            guard case .bool(let flag) = value else {
                throw TesseraError(.badFileFormat, details: "Boolean value expected in field: KeepSource")
            }
            keepSource = flag
        }
        let options = try JobOptions(body, synchronousByDefault: true)
        let job = ResourceModificationRequest(
            level: level, resource: id, instances: instances, body: body,
            keepSource: keepSource, seed: UUID().uuidString.lowercased(), anonymization: anonymization, patientName: patientName)
        return try await options.answer(submitter, type: ResourceModificationRequest.type, request: job.json,
                                        content: job.content(failed: 0))
    }
}
