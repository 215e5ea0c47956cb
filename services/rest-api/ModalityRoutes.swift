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
    let resources: ResourceQueries
    let instances: InstanceQueries
    let exports: ExportLog
    let configuration: TesseraConfiguration
    var maximumBodySize = 16 << 20

    /// The operations `GET /modalities/{id}` lists: the ones Tessera serves.
    static let operations = ["configuration", "echo", "store"]

    func add(to router: Router<APIRequestContext>) {
        router.get("/modalities") { request, _ in
            let modalities = try await registry.all()
            if request.uri.queryParameters["expand"] != nil {
                return OrthancJSON.response(.object(modalities.mapValues(\.json)))
            }
            return OrthancJSON.response(.array(modalities.keys.sorted().map(JSONValue.string)))
        }
        router.get("/modalities/{id}") { _, context in
            _ = try await registry.modality(try name(context))
            return OrthancJSON.response(.array(Self.operations.map(JSONValue.string)))
        }
        router.get("/modalities/{id}/configuration") { _, context in
            OrthancJSON.response(try await registry.modality(try name(context)).json)
        }
        router.put("/modalities/{id}") { request, context in
            let modality = try ModalityConfiguration(json: try await json(request))
            try await registry.put(try name(context), modality)
            return MetadataRoutes.text("", etag: nil)
        }
        router.delete("/modalities/{id}") { _, context in
            try await registry.delete(try name(context))
            return MetadataRoutes.text("", etag: nil)
        }
        router.post("/modalities/{id}/echo") { request, context in
            let remote = try await registry.modality(try name(context))
            let body = try await json(request, emptyAs: .object([:]))
            guard case .object = body else { throw TesseraError(.badFileFormat, details: "Must provide a JSON object") }
            if body["CheckFind"]?.boolValue == true {
                throw TesseraError(.notImplemented, details: "CheckFind: C-FIND SCU is not supported by Tessera yet")
            }
            let id = try await submitter.submit(.init(
                type: ModalityEchoJob.type, hidden: true,
                request: ModalityEchoJob.request(remote: remote, localAet: localAet(body: body, remote: remote),
                                                 timeoutSeconds: try timeout(body: body, remote: remote)),
                content: .object([:])))
            _ = try await submitter.wait(id)
            return OrthancJSON.response(.object([:]))
        }
        router.post("/modalities/{id}/store") { request, context in
            let modalityName = try name(context)
            var remote = try await registry.modality(modalityName)
            let body = try await storeBody(request)
            let options = try JobOptions(body, synchronousByDefault: true)
            if body["StorageCommitment"]?.boolValue == true {
                throw TesseraError(.notImplemented, details: "StorageCommitment is not supported by Tessera yet")
            }
            if let called = body["CalledAet"]?.stringValue { remote.aet = called }
            if let host = body["Host"]?.stringValue { remote.host = host }
            if let port = body["Port"]?.intValue { remote.port = port }
            let requested = try resourceIDs(body)
            var levels: [(ResourceLevel, PublicID)] = []
            for id in requested {
                guard let level = try await resources.level(of: id) else {
                    throw TesseraError(.unknownResource, details: "Unknown resource: \(id.value)")
                }
                levels.append((level, id))
            }
            let ids = Self.unique(try await instances.archiveEntries(levels).map(\.instance))
            if configuration.logExportedResources {
                for (level, id) in levels { try await exports.record(level, id, remoteModality: modalityName) }
            }
            let moveOriginatorID = try body["MoveOriginatorID"].map { value throws(TesseraError) -> Int in
                guard let number = value.intValue, (0...65_535).contains(number) else {
                    throw TesseraError(.badFileFormat, details: "MoveOriginatorID must be an integer between 0 and 65535")
                }
                return number
            }
            let storeRequest = ModalityStoreRequest(
                modalityName: modalityName, remote: remote, localAet: localAet(body: body, remote: remote),
                timeoutSeconds: try timeout(body: body, remote: remote),
                moveOriginatorAet: body["MoveOriginatorAet"]?.stringValue, moveOriginatorID: moveOriginatorID,
                permissive: options.permissive, parentResources: requested.map(\.value).sorted(), instances: ids)
            let id = try await submitter.submit(.init(
                type: ModalityStoreRequest.type, priority: options.priority, request: storeRequest.json,
                content: storeRequest.content(failed: 0), userData: options.userData))
            guard options.synchronous else { return OrthancJSON.response(options.asynchronousAnswer(id)) }
            return OrthancJSON.response(try await submitter.wait(id))
        }
    }

    private func name(_ context: APIRequestContext) throws -> String {
        guard let name = context.parameters.get("id") else { throw TesseraError(.uriSyntax) }
        return name
    }

    private func json(_ request: Request, emptyAs empty: JSONValue? = nil) async throws -> JSONValue {
        var request = request
        let buffer = try await request.collectBody(upTo: maximumBodySize)
        let data = Data(buffer: buffer)
        if let empty, data.allSatisfy({ [0x20, 0x0A, 0x0D, 0x09].contains($0) }) { return empty }
        guard let value = try? JSONValue.parse(data) else {
            throw TesseraError(.badFileFormat, details: "Must provide a JSON value")
        }
        return value
    }

    /// A store body: an identifier alone (Orthanc <= 0.5.1's form), a JSON string, a list, or an object.
    private func storeBody(_ request: Request) async throws -> JSONValue {
        var request = request
        let buffer = try await request.collectBody(upTo: maximumBodySize)
        let text = String(decoding: Data(buffer: buffer), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if PublicID(validating: text) != nil { return .string(text) }
        guard let value = try? JSONValue.parse(Data(text.utf8)) else {
            throw TesseraError(.badFileFormat, details: "Must provide a JSON value")
        }
        return value
    }

    /// The identifiers of a store body, validated.
    private func resourceIDs(_ body: JSONValue) throws -> [PublicID] {
        let items: [JSONValue]
        switch body {
        case .string: items = [body]
        case .array(let list): items = list
        case .object:
            switch body["Resources"] {
            case .string(let one)?: items = [.string(one)]
            case .array(let list)?: items = list
            default: throw TesseraError(.badFileFormat, details: "List of strings expected in field: Resources")
            }
        default: throw TesseraError(.badFileFormat, details: "Must provide a JSON object, a list or a string")
        }
        return try items.map { item throws(TesseraError) -> PublicID in
            guard let text = item.stringValue else { throw TesseraError(.badFileFormat, details: "List of strings expected in field: Resources") }
            guard let id = PublicID(validating: text.trimmingCharacters(in: .whitespaces)) else {
                throw TesseraError(.badFileFormat, details: "This string is not a valid Orthanc identifier: \(text)")
            }
            return id
        }
    }

    /// `LocalAet` of the body, else the modality's, else `DicomAet`.
    private func localAet(body: JSONValue, remote: ModalityConfiguration) -> String {
        if let aet = body["LocalAet"]?.stringValue, !aet.isEmpty { return aet }
        return remote.localAet.isEmpty ? configuration.dicomAet : remote.localAet
    }

    /// `Timeout` of the body (0: none), else the modality's, else `DicomScuTimeout`.
    private func timeout(body: JSONValue, remote: ModalityConfiguration) throws -> Int {
        if let value = body["Timeout"] {
            guard let seconds = value.intValue, seconds >= 0 else {
                throw TesseraError(.badFileFormat, details: "Positive integer expected in field: Timeout")
            }
            return seconds
        }
        return remote.timeout > 0 ? remote.timeout : configuration.dicomScuTimeout
    }

    private static func unique(_ ids: [PublicID]) -> [PublicID] {
        var seen = Set<PublicID>()
        return ids.filter { seen.insert($0).inserted }
    }
}
