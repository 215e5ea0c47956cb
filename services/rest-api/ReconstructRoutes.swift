import DICOM
import Foundation
import Hummingbird
import Index
import Model
import Storage

/// `POST /{level}/{id}/reconstruct` and `POST /tools/reconstruct` as Orthanc 1.12 answers them: synchronously, the
/// main tags of every instance below the resource (of every study) and of its ancestors are read again from the
/// stored files, instances in public-ID order (so a parent keeps the tags of its last child, as Orthanc's); 200 with
/// an empty body. Options: `LimitToThisLevelMainDicomTags` rebuilds only the resource's own level from its first
/// instance; `ReconstructFiles` is accepted when it would leave the files as they are (no `IngestTranscoding`).
/// As Orthanc, a body that is not JSON is ignored, and the ID's own level counts whatever the URL says.
struct ReconstructRoutes {
    let instances: InstanceQueries
    let resources: ResourceQueries
    let blobs: BlobStore
    let rebuild: MainTagsRebuild
    /// Whether ingest transcodes (`IngestTranscoding`): re-storing files would then change them.
    let transcodesAtIngest: Bool

    func add(to router: Router<APIRequestContext>) {
        for level in ResourceLevel.allCases {
            router.post(RouterPath("/\(level.collection)/{id}/reconstruct")) { request, context in
                let options = try await Options(request, transcodesAtIngest: transcodesAtIngest)
                guard let id = context.publicID else { throw TesseraError(.unknownResource) }
                // Any level: Orthanc looks the ID up whatever the URL's level.
                let entries = try await instances.archiveEntries(ResourceLevel.allCases.map { ($0, id) })
                guard !entries.isEmpty else { throw TesseraError(.unknownResource) }
                let ordered = entries.sorted { $0.instance.value < $1.instance.value }
                if options.limitToThisLevel, let first = ordered.first {
                    try await reconstruct(first, levels: [level])
                } else {
                    for entry in ordered { try await reconstruct(entry, levels: Set(ResourceLevel.allCases)) }
                }
                context.logger.info("Reconstructed main tags", metadata: ["resource": "\(id)", "instances": "\(ordered.count)"])
                return MetadataRoutes.text("", etag: nil)
            }
        }
        router.post("/tools/reconstruct") { request, context in
            _ = try await Options(request, transcodesAtIngest: transcodesAtIngest)
            var count = 0
            for (_, study) in try await resources.page(.study) {
                let entries = try await instances.archiveEntries([(.study, study)]).sorted { $0.instance.value < $1.instance.value }
                for entry in entries { try await reconstruct(entry, levels: Set(ResourceLevel.allCases)) }
                count += entries.count
            }
            context.logger.info("Reconstructed the main tags of every instance", metadata: ["instances": "\(count)"])
            return MetadataRoutes.text("", etag: nil)
        }
        MethodNotAllowed.register(ResourceLevel.allCases.map { "/\($0.collection)/{id}/reconstruct" } + ["/tools/reconstruct"],
                                  on: router, allowed: [.post])
    }

    private func reconstruct(_ entry: ArchiveEntry, levels: Set<ResourceLevel>) async throws {
        let summary: InstanceSummary
        do {
            summary = try await blobs.withBlob(entry.fileUUID) { path throws(TesseraError) in try InstanceSummary.read(path: path) }
        } catch where error.code == .inexistentFile {
            return  // deleted meanwhile
        }
        _ = try await rebuild.apply(summary, to: entry.instance, levels: levels)
    }

    /// The body's options (Orthanc reads them only from a JSON object; anything else is no options).
    struct Options {
        var limitToThisLevel = false

        init(_ request: Request, transcodesAtIngest: Bool) async throws {
            var request = request
            let body = try await request.collectBody(upTo: 64 * 1024)
            guard body.readableBytes > 0, case .object(let members)? = try? JSONValue.parse(Data(buffer: body)) else { return }
            func flag(_ name: String) throws(TesseraError) -> Bool {
                guard let value = members[name] else { return false }
                guard case .bool(let flag) = value else {
                    throw TesseraError(.badFileFormat, details: "The field \(name) must contain a Boolean")
                }
                return flag
            }
            limitToThisLevel = try flag("LimitToThisLevelMainDicomTags")
            if try flag("ReconstructFiles") && transcodesAtIngest {
                throw TesseraError(.notImplemented, details: "ReconstructFiles with IngestTranscoding is not supported: "
                                   + "transcode stored instances with /modify (\"Transcode\") instead")
            }
        }
    }
}
