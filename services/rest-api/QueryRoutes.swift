import DICOM
import Foundation
import Hummingbird
import Index
import Jobs
import Model

/// Query/retrieve as a service user: `POST /modalities/{id}/query` (C-FIND, run by a worker, its answers saved in
/// PostgreSQL), `/queries` and their answers, retrieves of a query or an answer, `POST /modalities/{id}/move` (C-MOVE,
/// `DicomMoveScu` jobs) and `POST /modalities/{id}/get` (C-GET, `DicomGetScu` jobs), synchronous by default as in Orthanc.
struct QueryRoutes {
    let registry: ModalityRegistry
    let submitter: JobSubmitter
    let queries: QueryStore
    let configuration: TesseraConfiguration

    func add(to router: Router<APIRequestContext>) {
        router.post("/modalities/{id}/query") { request, context in
            let name = try EndpointRoutes<ModalityConfiguration>.name(context)
            let remote = try await registry.endpoint(name)
            let body = try await EndpointRoutes<ModalityConfiguration>.json(request)
            guard case .object = body else { throw TesseraError(.badFileFormat, details: "Must provide a JSON object") }
            guard let level = body["Level"]?.stringValue.flatMap(QueryLevel.init(name:)) else {
                throw TesseraError(.parameterOutOfRange, details: "Level must be Patient, Study, Series or Instance")
            }
            let asked = try QueryIdentifiers.attributes(body["Query"] ?? .object([:]))
            return OrthancJSON.response(try await find(remote: remote, name: name, level: level, asked: asked, body: body))
        }
        // Orthanc's deprecated one-level finds: the answers themselves (simplified), no /queries entry.
        for level in QueryLevel.allCases {
            router.post(RouterPath("/modalities/{id}/find-" + (level == .instance ? "instance" : level.rawValue.lowercased()))) { request, context in
                let name = try EndpointRoutes<ModalityConfiguration>.name(context)
                let remote = try await registry.endpoint(name)
                let body = try await EndpointRoutes<ModalityConfiguration>.json(request, emptyAs: .object([:]))
                return OrthancJSON.response(.array(try await legacyFind(remote: remote, name: name, level: level, body: body)))
            }
        }
        // The deprecated hierarchical find: patients matching the body, each with its studies, each with its series (the
        // body applied at every level, the parents' keys copied from each answer, as Orthanc).
        router.post("/modalities/{id}/find") { request, context in
            let name = try EndpointRoutes<ModalityConfiguration>.name(context)
            let remote = try await registry.endpoint(name)
            let body = try await EndpointRoutes<ModalityConfiguration>.json(request, emptyAs: .object([:]))
            var patients: [JSONValue] = []
            for patient in try await legacyFind(remote: remote, name: name, level: .patient, body: body) {
                var studies: [JSONValue] = []
                let patientKeys = Self.keys(of: patient, ["PatientID"])
                for study in try await legacyFind(remote: remote, name: name, level: .study, body: body, keys: patientKeys) {
                    let studyKeys = Self.keys(of: study, ["PatientID", "StudyInstanceUID"])
                    let series = try await legacyFind(remote: remote, name: name, level: .series, body: body, keys: studyKeys)
                    studies.append(study.setting("Series", .array(series)))
                }
                patients.append(patient.setting("Studies", .array(studies)))
            }
            return OrthancJSON.response(.array(patients))
        }
        router.get("/queries") { _, _ in
            OrthancJSON.response(.array(try await queries.list().map(JSONValue.string)))
        }
        router.get("/queries/{id}") { _, context in
            _ = try await query(context)
            return OrthancJSON.response(.array(["answers", "level", "modality", "query", "retrieve"].map(JSONValue.string)))
        }
        router.get("/queries/{id}/level") { _, context in MetadataRoutes.text(try await query(context).level, etag: nil) }
        router.get("/queries/{id}/modality") { _, context in MetadataRoutes.text(try await query(context).modality, etag: nil) }
        router.get("/queries/{id}/query") { request, context in
            let record = try await query(context)
            let format = try TagRoutes.format(request, default: .full)
            return OrthancJSON.response(QueryIdentifiers.render(QueryRequest.attributes(record.query), format: format))
        }
        router.get("/queries/{id}/answers") { request, context in
            let record = try await query(context)
            let parameters = request.uri.queryParameters
            guard parameters["expand"] != nil else {
                return OrthancJSON.response(.array((0..<record.answerCount).map { .string(String($0)) }))
            }
            let renderer = DicomJSONRenderer(format: try TagRoutes.format(request, default: .full))
            return OrthancJSON.response(.array(try await queries.answers(record.id).map { try QueryIdentifiers.render($0, renderer) }))
        }
        router.get("/queries/{id}/answers/{n}") { _, context in
            let record = try await query(context)
            _ = try answerIndex(context, record)
            var operations = ["content", "retrieve"]
            var level = QueryLevel(name: record.level)?.child
            while let child = level {
                operations.append(Self.childRoute(child))
                level = child.child
            }
            return OrthancJSON.response(.array(operations.map(JSONValue.string)))
        }
        router.get("/queries/{id}/answers/{n}/content") { request, context in
            let (_, answer) = try await answer(context)
            let renderer = DicomJSONRenderer(format: try TagRoutes.format(request, default: .full))
            return OrthancJSON.response(try QueryIdentifiers.render(answer, renderer))
        }
        router.post("/queries/{id}/retrieve") { request, context in
            let record = try await query(context)
            let answers = try await queries.answers(record.id)
            return try await retrieve(record, answers: answers, request: request)
        }
        router.post("/queries/{id}/answers/{n}/retrieve") { request, context in
            let (record, answer) = try await answer(context)
            return try await retrieve(record, answers: [answer], request: request)
        }
        for child in [QueryLevel.study, .series, .instance] {
            router.post(RouterPath("/queries/{id}/answers/{n}/" + Self.childRoute(child))) { request, context in
                let (record, answer) = try await answer(context)
                guard let parent = QueryLevel(name: record.level), child.isBelow(parent) else {
                    throw TesseraError(.badRequest, details: "A \(record.level) answer has no \(child.rawValue.lowercased()) level below it")
                }
                let body = try await EndpointRoutes<ModalityConfiguration>.json(request, emptyAs: .object([:]))
                var asked = try QueryIdentifiers.attributes(body["Query"] ?? .object([:]))
                let keys = try QueryIdentifiers.retrieveKeys(answer, level: parent)
                for (tag, value) in keys where asked[tag] == nil { asked[tag] = value }
                let remote = try ModalityConfiguration(json: record.remote)
                return OrthancJSON.response(try await find(remote: remote, name: record.modality, level: child, asked: asked,
                                                           body: body))
            }
        }
        router.post("/modalities/{id}/move") { request, context in
            let name = try EndpointRoutes<ModalityConfiguration>.name(context)
            let remote = try await registry.endpoint(name)
            let body = try await EndpointRoutes<ModalityConfiguration>.json(request)
            let (level, queries) = try Self.retrieveQueries(body)
            do {
                return try await submitRetrieve(.move, remote: remote, name: name, level: level, queries: queries, body: body)
            } catch let error as TesseraError where error.code.code == OrthancErrorCode.networkProtocol.code {
                // Orthanc runs this C-MOVE without a job and answers its failure with 422 (Unprocessable Entity).
                throw TesseraError(OrthancErrorCode(code: error.code.code, description: error.code.description, httpStatus: 422),
                                   details: error.details)
            }
        }
        router.post("/modalities/{id}/get") { request, context in
            let name = try EndpointRoutes<ModalityConfiguration>.name(context)
            let remote = try await registry.endpoint(name)
            let body = try await EndpointRoutes<ModalityConfiguration>.json(request)
            let (level, queries) = try Self.retrieveQueries(body)
            return try await submitRetrieve(.get, remote: remote, name: name, level: level, queries: queries, body: body)
        }
    }

    /// The `Level` and `Resources` of a `/move` or `/get` body, as identifiers with their QueryRetrieveLevel.
    static func retrieveQueries(_ body: JSONValue) throws -> (QueryLevel, [[String: String]]) {
        guard let level = body["Level"]?.stringValue.flatMap(QueryLevel.init(name:)) else {
            throw TesseraError(.parameterOutOfRange, details: "Level must be Patient, Study, Series or Instance")
        }
        guard case .array(let resources)? = body["Resources"], !resources.isEmpty else {
            throw TesseraError(.badFileFormat, details: "Resources must be a list of queries (objects of tags)")
        }
        var queries: [[String: String]] = []
        for resource in resources {
            var query = try QueryIdentifiers.attributes(resource)
            query[QueryLevel.tag] = level.dicomValue
            queries.append(QueryIdentifiers.keyed(query))
        }
        return (level, queries)
    }

    /// One deprecated find at `level`: the body's fields (and `keys`) over the level's usual attributes, the parents'
    /// unique keys required (400 otherwise, as Orthanc); the simplified answers, no `/queries` entry left.
    private func legacyFind(remote: ModalityConfiguration, name: String, level: QueryLevel, body: JSONValue,
                            keys: [DicomTag: String] = [:]) async throws -> [JSONValue] {
        var asked = try QueryIdentifiers.attributes(body)
        for (tag, value) in keys { asked[tag] = value }
        let template = QueryIdentifiers.findTemplate(level)
        for tag in template.required where (asked[tag] ?? "").isEmpty {
            throw TesseraError(.badRequest, details: "\(DicomDictionary.name(of: tag) ?? tag.description) is required at the \(level.rawValue) level")
        }
        for tag in template.returned where asked[tag] == nil { asked[tag] = "" }
        let found = try await find(remote: remote, name: name, level: level, asked: asked, body: .object([:]))
        guard let id = found["ID"]?.stringValue else { throw TesseraError(.internalError, details: "No query saved") }
        let renderer = DicomJSONRenderer(format: .human)
        let answers = try await queries.answers(id).map { try QueryIdentifiers.render($0, renderer) }
        try? await queries.delete(id)
        return answers
    }

    /// The named identifiers of a simplified answer, to constrain the level below.
    static func keys(of answer: JSONValue, _ names: [String]) -> [DicomTag: String] {
        var keys: [DicomTag: String] = [:]
        for name in names {
            if let tag = DicomDictionary.lookup(name)?.tag, let value = answer[name]?.stringValue { keys[tag] = value }
        }
        return keys
    }

    /// Runs a C-FIND in a worker; answers `{ID, Path}` of the saved query.
    private func find(remote: ModalityConfiguration, name: String, level: QueryLevel, asked: [DicomTag: String],
                      body: JSONValue) async throws -> JSONValue {
        let sent = QueryIdentifiers.findQuery(asked, level: level, normalize: body["Normalize"]?.boolValue != false)
        let queryID = UUID().uuidString.lowercased()
        let request = QueryRequest(modalityName: name, remote: remote, localAet: ScuDefaults(configuration).localAet(body: body, remote: remote),
                                   timeoutSeconds: try ScuDefaults(configuration).timeout(body: body, remote: remote), level: level,
                                   queries: [QueryIdentifiers.keyed(sent)])
        let id = try await submitter.submit(.init(type: ModalityFindJob.type, hidden: true,
                                                  request: request.json.setting("QueryID", .string(queryID))
                                                      .setting("Asked", .object(QueryIdentifiers.keyed(asked).mapValues(JSONValue.string))),
                                                  content: .object([:])))
        return try await submitter.wait(id)
    }

    /// How a retrieve runs: C-MOVE to a target AE title, or C-GET into this server.
    enum RetrieveMethod: String {
        case move = "C-MOVE"
        case get = "C-GET"
    }

    /// Submits a `DicomMoveScu` or `DicomGetScu` job; answers its content (synchronous, the default as in Orthanc) or
    /// `{ID, Path}`.
    private func submitRetrieve(_ method: RetrieveMethod, remote: ModalityConfiguration, name: String, level: QueryLevel,
                                queries: [[String: String]], body: JSONValue, targetAet: String? = nil) async throws -> Response {
        let options = try JobOptions(body, synchronousByDefault: true)
        let defaults = ScuDefaults(configuration)
        let request = QueryRequest(modalityName: name, remote: remote, localAet: defaults.localAet(body: body, remote: remote),
                                   timeoutSeconds: try defaults.timeout(body: body, remote: remote), level: level, queries: queries,
                                   targetAet: method == .move ? targetAet ?? body["TargetAet"]?.stringValue ?? configuration.dicomAet : nil)
        let job: JobStore.Submission = switch method {
        case .move: .init(type: ModalityMoveJob.type, priority: options.priority, request: request.json,
                          content: ModalityMoveJob.content(request), userData: options.userData)
        case .get: .init(type: ModalityGetJob.type, priority: options.priority, request: request.json,
                         content: ModalityGetJob.content(request), userData: options.userData)
        }
        let id = try await submitter.submit(job)
        guard options.synchronous else { return OrthancJSON.response(options.asynchronousAnswer(id)) }
        return OrthancJSON.response(try await submitter.wait(id))
    }

    /// The retrieve method of a call: its `RetrieveMethod`, else the modality's, else `DicomDefaultRetrieveMethod`.
    private func retrieveMethod(body: JSONValue, remote: ModalityConfiguration) throws(TesseraError) -> RetrieveMethod {
        if let asked = body["RetrieveMethod"] {
            guard let method = asked.stringValue.flatMap(RetrieveMethod.init(rawValue:)) else {
                throw TesseraError(.parameterOutOfRange, details: "RetrieveMethod must be C-MOVE or C-GET")
            }
            return method
        }
        return RetrieveMethod(rawValue: remote.retrieveMethod)
            ?? RetrieveMethod(rawValue: configuration.dicomDefaultRetrieveMethod) ?? .move
    }

    /// Retrieves answers of a query with C-MOVE or C-GET (``retrieveMethod(body:remote:)``); the body is a target AE
    /// title alone, or JSON with `TargetAet` and `RetrieveMethod`.
    private func retrieve(_ record: QueryRecord, answers: [[UInt8]], request: Request) async throws -> Response {
        var request = request
        let buffer = try await request.collectBody(upTo: 1 << 20)
        let text = String(decoding: Data(buffer: buffer), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        var body = JSONValue.object([:])
        var target: String?
        if text.hasPrefix("{") {
            guard let parsed = try? JSONValue.parse(text: text), case .object = parsed else {
                throw TesseraError(.badFileFormat, details: "Must provide a JSON object or an AE title")
            }
            body = parsed
        } else if !text.isEmpty {
            target = text
        }
        guard let level = QueryLevel(name: record.level) else { throw TesseraError(.internalError, details: "Bad query level") }
        var moves: [[String: String]] = []
        for answer in answers {
            var keys = try QueryIdentifiers.retrieveKeys(answer, level: level)
            keys[QueryLevel.tag] = level.dicomValue
            moves.append(QueryIdentifiers.keyed(keys))
        }
        let remote = try ModalityConfiguration(json: record.remote)
        return try await submitRetrieve(try retrieveMethod(body: body, remote: remote), remote: remote, name: record.modality,
                                        level: level, queries: moves,
                                        body: body.setting("Timeout", body["Timeout"] ?? .number(Double(record.timeoutSeconds)))
                                            .setting("LocalAet", body["LocalAet"] ?? .string(record.localAet)),
                                        targetAet: target)
    }

    private func query(_ context: APIRequestContext) async throws -> QueryRecord {
        let id = context.parameters.get("id") ?? ""
        guard let record = try await queries.query(id) else {
            throw TesseraError(.unknownResource, details: "Unknown query: \(id)")
        }
        return record
    }

    private func answerIndex(_ context: APIRequestContext, _ record: QueryRecord) throws -> Int {
        guard let index = context.parameters.get("n").flatMap(Int.init), (0..<record.answerCount).contains(index) else {
            throw TesseraError(.parameterOutOfRange, details: "No answer \(context.parameters.get("n") ?? "") in query \(record.id)")
        }
        return index
    }

    private func answer(_ context: APIRequestContext) async throws -> (QueryRecord, [UInt8]) {
        let record = try await query(context)
        let index = try answerIndex(context, record)
        guard let answer = try await queries.answers(record.id, position: index).first else {
            throw TesseraError(.parameterOutOfRange, details: "No answer \(index) in query \(record.id)")
        }
        return (record, answer)
    }

    static func childRoute(_ level: QueryLevel) -> String {
        switch level {
        case .patient: "query-patients"
        case .study: "query-studies"
        case .series: "query-series"
        case .instance: "query-instances"
        }
    }
}
