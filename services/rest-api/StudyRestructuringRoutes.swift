import DICOM
import Foundation
import Hummingbird
import Index
import Jobs
import Model
import Modification
import Storage

/// `POST /studies/{id}/split` and `POST /studies/{id}/merge`: `SplitStudy` and `MergeStudy` jobs (synchronous by
/// default, as Orthanc), with Orthanc's checks and error texts on the resources named.
struct StudyRestructuringRoutes {
    let instances: InstanceQueries
    let resources: ResourceQueries
    let selection: ResourceSelection
    let submitter: JobSubmitter
    let blobs: BlobStore
    var maximumBodySize = 16 << 20

    func add(to router: Router<APIRequestContext>) {
        router.post("/studies/{id}/split") { request, context in
            var request = request
            let body = try await body(of: &request)
            guard let study = context.publicID, try await resources.resource(.study, study) != nil else {
                throw TesseraError(.unknownResource, details: "Cannot split unknown study \(context.parameters.get("id") ?? "")")
            }
            var ids: [PublicID] = []
            var named = false
            if body["Series"] != nil {
                for name in try Self.strings(body, "Series") {
                    named = true
                    guard let series = PublicID(validating: name), try await resources.resource(.series, series)?.parent == study else {
                        throw TesseraError(.unknownResource, details: "This series does not belong to the study to be split: \(name)")
                    }
                    ids += try await selection.instances(below: [series])
                }
            }
            if body["Instances"] != nil {
                for name in try Self.strings(body, "Instances") {
                    named = true
                    guard let instance = PublicID(validating: name), try await studyOf(instance: instance) == study else {
                        throw TesseraError(.unknownResource, details: "This instance does not belong to the study to be split: \(name)")
                    }
                    ids.append(instance)
                }
            }
            guard named else {
                throw TesseraError(.badRequest, details: "Both the \"Series\" and the \"Instances\" fields are missing")
            }
            let keepSource = try Self.keepSource(body)
            let restructuring = try StudyRestructuring.split(body, targetStudyUID: DicomUID.generate(for: .study))
            return try await submit(.split, study: study, instances: ids, restructuring: restructuring, keepSource: keepSource,
                                    body: body)
        }
        router.post("/studies/{id}/merge") { request, context in
            var request = request
            let body = try await body(of: &request)
            guard let target = context.publicID, try await resources.resource(.study, target) != nil else {
                throw TesseraError(.unknownResource, details: "Cannot merge into an unknown study: \(context.parameters.get("id") ?? "")")
            }
            // The patient and study tags come from the instance Orthanc reads (`GetChildInstances(...).front()`).
            guard let key = try await resources.key(of: target, at: .study),
                  let file = try await instances.firstFiles(of: .study, keys: [key], latestChild: true)[key] else {
                throw TesseraError(.unknownResource)
            }
            let restructuring = try await blobs.withBlob(file) { path throws(TesseraError) in
                try StudyRestructuring.merge(into: try DicomFile(path: path))
            }
            var ids: [PublicID] = []
            for name in try Self.strings(body, "Resources") {
                ids += try await mergedInstances(name, into: target)
            }
            return try await submit(.merge, study: target, instances: ids, restructuring: restructuring,
                                    keepSource: try Self.keepSource(body), body: body)
        }
    }

    /// The instances a merge takes from one named resource, with Orthanc's refusals (all 404).
    private func mergedInstances(_ name: String, into target: PublicID) async throws -> [PublicID] {
        guard let id = PublicID(validating: name), let level = try await resources.level(of: id) else {
            throw TesseraError(.unknownResource, details: "Cannot find this resource: \(name)")
        }
        switch level {
        case .study where id == target:
            throw TesseraError(.unknownResource, details: "Cannot merge a study into the same study: \(name)")
        case .series where try await resources.resource(.series, id)?.parent == target:
            throw TesseraError(.unknownResource, details: "Cannot merge series \(name) into its parent study \(target.value)")
        case .instance where try await studyOf(instance: id) == target:
            throw TesseraError(.unknownResource, details: "Cannot merge instance \(name) into its parent study \(target.value)")
        case .patient:
            throw TesseraError(.unknownResource, details: "This resource is neither a study, nor a series, nor an instance: \(name) is a Patient")
        default:
            return try await selection.instances(below: [id])
        }
    }

    /// The study an instance belongs to; nil for an unknown instance.
    private func studyOf(instance: PublicID) async throws -> PublicID? {
        guard let record = try await instances.instance(instance) else { return nil }
        return try await resources.resource(.series, record.parentSeries)?.parent
    }

    private func submit(_ kind: StudyRestructuringRequest.Kind, study: PublicID, instances ids: [PublicID],
                        restructuring: StudyRestructuring, keepSource: Bool, body: JSONValue) async throws -> Response {
        var seen = Set<PublicID>()
        let job = StudyRestructuringRequest(kind: kind, study: study, instances: ids.filter { seen.insert($0).inserted },
                                            restructuring: restructuring, keepSource: keepSource, seed: UUID().uuidString.lowercased())
        return try await JobOptions(body, synchronousByDefault: true)
            .answer(submitter, type: kind.rawValue, request: job.json, content: job.content(failed: 0))
    }

    /// The request's JSON object (Orthanc's "Bad file format" for anything else).
    private func body(of request: inout Request) async throws -> JSONValue {
        let buffer = try await request.collectBody(upTo: maximumBodySize)
        guard let body = try? JSONValue.parse(Data(buffer: buffer)), case .object = body else {
            throw TesseraError(.badFileFormat)
        }
        return body
    }

    /// A member that must be a list of strings (Orthanc's `ReadArrayOfStrings`).
    static func strings(_ body: JSONValue, _ field: String) throws(TesseraError) -> [String] {
        guard case .array(let items)? = body[field] else {
            throw TesseraError(.badFileFormat, details: "List of strings expected in field: \(field)")
        }
        var names: [String] = []
        for item in items {
            guard let name = item.stringValue else {
                throw TesseraError(.badFileFormat, details: "List of strings expected in field: \(field)")
            }
            names.append(name)
        }
        return names
    }

    /// `KeepSource`: false unless given (Orthanc removes what it merged or split).
    private static func keepSource(_ body: JSONValue) throws(TesseraError) -> Bool {
        guard let value = body["KeepSource"] else { return false }
        guard case .bool(let flag) = value else {
            throw TesseraError(.badFileFormat, details: "Boolean value expected in field: KeepSource")
        }
        return flag
    }
}
