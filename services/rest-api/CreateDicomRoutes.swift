import DICOM
import Foundation
import Hummingbird
import Index
import Ingest
import Jobs
import Model
import Modification
import Storage

/// `POST /tools/create-dicom`: new instances made by `DicomCreation` (Shared/Modification) and stored through the
/// upload path (blob, event, indexed before the answer). One instance answers as `POST /instances` does; a `Content`
/// list makes a series and answers its `ID`, `Path` and `Status`; if one of its instances fails, those already stored
/// are deleted, as Orthanc does.
struct CreateDicomRoutes {
    let upload: UploadRoutes
    let resources: ResourceQueries
    let instances: InstanceQueries
    let blobs: BlobStore
    let deleter: ResourceDeleter
    var maximumBodySize = 64 << 20

    func add(to router: Router<APIRequestContext>) {
        router.post("/tools/create-dicom") { request, context in
            var request = request
            let buffer = try await request.collectBody(upTo: maximumBodySize)
            guard let body = try? JSONValue.parse(Data(buffer: buffer)) else { throw TesseraError(.badRequest) }
            let creation = try DicomCreation.parse(body)
            let files = try await files(creation)
            let source = IngestSource(origin: "RestApi", remoteIP: context.remoteAddress?.ipAddress, httpUsername: context.user ?? "")
            guard creation.isSeries else {
                return OrthancJSON.response(try await store(files[0], source: source))
            }
            var series: PublicID?
            do {
                for file in files {
                    let answer = try await store(file, source: source)
                    series = series ?? answer["ParentSeries"]?.stringValue.flatMap { PublicID(validating: $0) }
                }
            } catch {
                if let series { _ = try? await deleter.delete(.series, series) }
                throw error
            }
            guard let series else { throw TesseraError(.internalError, details: "No instance was created") }
            return OrthancJSON.response(.object(["ID": .string(series.value), "Path": .string("/series/\(series.value)"),
                                                 "Status": "Success"]))
        }
    }

    /// The new files; with a `Parent`, made beside one instance of it (its module tags and character set).
    private func files(_ creation: DicomCreation) async throws -> [[UInt8]] {
        let charset = DefaultEncoding.shared.specificCharacterSet
        guard let name = creation.parent else {
            return try await blobs.performBlocking { () throws(TesseraError) in try creation.files(parent: nil, defaultCharset: charset) }
        }
        guard let parent = PublicID(validating: name), let level = try await resources.level(of: parent) else {
            throw TesseraError(.createDicomBadParent)
        }
        guard level != .instance else { throw TesseraError(.createDicomParentIsInstance) }
        // The instance Orthanc copies the parent's tags from (`GetChildInstances(...).front()`).
        guard let key = try await resources.key(of: parent, at: level),
              let file = try await instances.firstFiles(of: level, keys: [key], latestChild: true)[key] else {
            throw TesseraError(.internalError, details: "The parent has no instance")
        }
        return try await blobs.withBlob(file) { path throws(TesseraError) in
            try creation.files(parent: (level, try DicomFile(path: path)), defaultCharset: charset)
        }
    }

    private func store(_ bytes: [UInt8], source: IngestSource) async throws -> JSONValue {
        let blobs = self.blobs
        let path = try await blobs.performBlocking { () throws(TesseraError) in try blobs.writeIncomingBlocking(bytes) }
        return try await upload.store(path, source: source)
    }
}
