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
                return try await submit(level, id, body: body, anonymization: true, patientName: name)
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
                return try await submit(level, id, body: body, anonymization: false, patientName: nil)
            }
        }
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
    private func submit(_ level: ResourceLevel, _ id: PublicID, body: JSONValue, anonymization: Bool,
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
            level: level, resource: id, instances: try await selection.instances(below: [id]), body: body,
            keepSource: keepSource, seed: UUID().uuidString.lowercased(), anonymization: anonymization, patientName: patientName)
        let submitted = try await submitter.submit(.init(
            type: ResourceModificationRequest.type, priority: options.priority, request: job.json,
            content: job.content(failed: 0), userData: options.userData))
        guard options.synchronous else { return OrthancJSON.response(options.asynchronousAnswer(submitted)) }
        return OrthancJSON.response(try await submitter.wait(submitted))
    }
}
