import DICOM
import Hummingbird
import Index
import Model
import Storage

/// Tags over several instances, as Orthanc 1.10 computes them from the stored files:
/// `/{level}/{id}/shared-tags` (top-level text tags equal in every instance), `/{level}/{id}/instances-tags`
/// (every instance's tags by ID), `/{level}/{id}/module` and `/studies/{id}/module-patient` (one instance's tags
/// of a DICOM module). Each takes `?simplify` / `?short` (default: the full form).
struct TagAggregateRoutes {
    let resources: ResourceQueries
    let instances: InstanceQueries
    let blobs: BlobStore

    func add(to router: Router<APIRequestContext>) {
        for level in ResourceLevel.allCases {
            let base = "/\(level.collection)/{id}"
            if level != .instance {
                router.get(RouterPath(base + "/shared-tags")) { request, context in
                    guard let files = try await childFiles(level, context) else { throw TesseraError(.unknownResource) }
                    return OrthancJSON.response(try await sharedTags(files, format: TagRoutes.format(request, default: .full)))
                }
                router.get(RouterPath(base + "/instances-tags")) { request, context in
                    guard let files = try await childFiles(level, context) else { throw TesseraError(.unknownResource) }
                    let renderer = DicomJSONRenderer(format: try TagRoutes.format(request, default: .full))
                    var members: [String: JSONValue] = [:]
                    for (id, uuid) in files {
                        members[id.value] = try await render(uuid, renderer)
                    }
                    return OrthancJSON.response(.object(members))
                }
            }
            router.get(RouterPath(base + "/module")) { request, context in
                try await module(DicomModule(level), level, request, context)
            }
        }
        router.get("/studies/{id}/module-patient") { request, context in
            try await module(.patient, .study, request, context)
        }
    }

    /// The instances below a resource (ID and blob), in index order; nil when the resource is unknown.
    private func childFiles(_ level: ResourceLevel, _ context: APIRequestContext) async throws -> [(PublicID, BlobID)]? {
        guard let id = context.publicID, try await resources.key(of: id, at: level) != nil else { return nil }
        let keys = try await resources.relatedKeys(of: id, at: level, target: .instance)
        return try await instances.records(keys: keys).map { ($0.publicID, $0.fileUUID) }
    }

    private func render(_ uuid: BlobID, _ renderer: DicomJSONRenderer) async throws -> JSONValue {
        try await blobs.withBlob(uuid) { path throws(TesseraError) in
            renderer.render(datasetOf: try DicomFile(path: path, maxReadLength: 4096))
        }
    }

    /// Orthanc's `ExtractSharedTags`: top-level tags of type String whose value is the same in every instance.
    private func sharedTags(_ files: [(PublicID, BlobID)], format: DicomJSONFormat) async throws -> JSONValue {
        let full = DicomJSONRenderer(format: .full)
        var shared: [String: JSONValue]?
        for (_, uuid) in files {
            guard case .object(let tags) = try await render(uuid, full) else { continue }
            let strings = tags.filter { $0.value["Type"]?.stringValue == "String" }
            guard let current = shared else {
                shared = strings
                continue
            }
            shared = current.filter { key, entry in strings[key]?["Value"] == entry["Value"] }
        }
        let entries = shared ?? [:]
        switch format {
        case .full:
            return .object(entries)
        case .short:
            return .object(entries.mapValues { $0["Value"] ?? .null })
        case .human:
            var members: [String: JSONValue] = [:]
            for (key, entry) in entries.sorted(by: { $0.key < $1.key }) {
                if let name = entry["Name"]?.stringValue { members[name] = entry["Value"] ?? .null } else { members[key] = entry["Value"] }
            }
            return .object(members)
        }
    }

    /// One instance's tags that belong to `module`: the instance Orthanc reads (`GetChildInstances(...).front()`).
    private func module(_ module: DicomModule, _ level: ResourceLevel, _ request: Request,
                        _ context: APIRequestContext) async throws -> Response {
        let format = try TagRoutes.format(request, default: .full)
        guard let id = context.publicID, let key = try await resources.key(of: id, at: level),
              let uuid = try await instances.firstFiles(of: level, keys: [key], latestChild: true)[key] else {
            throw TesseraError(.unknownResource)
        }
        guard case .object(let tags) = try await render(uuid, DicomJSONRenderer(format: format)) else {
            return OrthancJSON.response(.object([:]))
        }
        let keys: Set<String> = format == .human
            ? Set(module.tags.compactMap { MainDicomTag.orthancName(of: $0) ?? DicomDictionary.name(of: $0) })
            : Set(module.tags.map(\.description))
        return OrthancJSON.response(.object(tags.filter { keys.contains($0.key) }))
    }
}
