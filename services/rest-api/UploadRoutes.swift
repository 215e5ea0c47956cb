import Hummingbird
import Index
import Ingest
import Logging
import Model

/// `POST /instances`: a DICOM file, or a ZIP of them. Takes the same path as the gateway (blob, then event) and
/// answers only once the instance is indexed, so an upload can be read back at once through any API replica.
struct UploadRoutes {
    let ingest: InstanceIngest
    let resources: ResourceQueries
    let notifications: IndexNotifications
    let overwrite: Bool
    /// How long to wait for the indexer before answering with a timeout (the instance is durable regardless).
    var indexingTimeout: Duration = .seconds(60)
    /// Largest body accepted.
    var maximumBodySize = 1 << 30

    func add(to router: Router<APIRequestContext>) {
        router.post("/instances") { request, context in
            var request = request
            let body = try await request.collectBody(upTo: maximumBodySize)
            let bytes = Array(buffer: body)
            let source = IngestSource(origin: "RestApi", remoteIP: context.remoteAddress?.ipAddress, httpUsername: context.user ?? "")
            if ZipUpload.isZip(bytes) {
                var answers: [JSONValue] = []
                for file in try ZipUpload.files(bytes) {
                    do {
                        answers.append(try await store(file.bytes, source: source))
                    } catch let error as TesseraError where error.code == .badFileFormat || error.code == .inexistentTag {
                        context.logger.info("Skipped a ZIP entry that is not DICOM", metadata: ["entry": "\(file.name)"])
                    }
                }
                return OrthancJSON.response(.array(answers))
            }
            return OrthancJSON.response(try await store(bytes, source: source))
        }
    }

    /// Stores one file and waits until it is indexed; answers Orthanc's `{ID, ParentPatient, ..., Status}`.
    private func store(_ bytes: [UInt8], source: IngestSource) async throws -> JSONValue {
        let summary = try ingest.summarize(bytes)
        let ids = summary.identifiers
        if !overwrite, try await resources.key(of: ids.instancePublicID, at: .instance) != nil {
            return Self.answer(ids, status: "AlreadyStored")
        }
        let ticket = await notifications.expect(ids.instancePublicID)
        do {
            _ = try await ingest.store(bytes, summary: summary, source: source)
        } catch {
            await notifications.forget(ticket)
            throw error
        }
        if await notifications.wait(ticket, timeout: indexingTimeout) {
            return Self.answer(ids, status: "Success")
        }
        // The announcement may have been lost with a reconnect: the index itself has the last word.
        if try await resources.key(of: ids.instancePublicID, at: .instance) != nil {
            return Self.answer(ids, status: "Success")
        }
        throw TesseraError(.timeout, message: "The instance is stored but not indexed yet",
                           details: "It is durable and will appear once the indexer catches up: \(ids.instancePublicID)")
    }

    private static func answer(_ ids: InstanceIdentifiers, status: String) -> JSONValue {
        .object([
            "ID": .string(ids.instancePublicID.value),
            "ParentPatient": .string(ids.patientPublicID.value),
            "ParentStudy": .string(ids.studyPublicID.value),
            "ParentSeries": .string(ids.seriesPublicID.value),
            "Path": .string("/instances/\(ids.instancePublicID.value)"),
            "Status": .string(status),
        ])
    }
}
