import Foundation
import Index
import Model

/// What a `/modalities/{id}/store` or `/peers/{id}/store` body selects: an identifier (as a JSON string), a list, or
/// `{"Resources": ...}`, at any level; resolved to the instances below, in order, and logged in `/exports`
/// (`LogExportedResources`) as Orthanc does when it accepts the request.
public struct ResourceSelection: Sendable {
    let resources: ResourceQueries
    let instances: InstanceQueries
    let exports: ExportLog
    let logExportedResources: Bool

    public init(resources: ResourceQueries, instances: InstanceQueries, exports: ExportLog, logExportedResources: Bool) {
        self.resources = resources
        self.instances = instances
        self.exports = exports
        self.logExportedResources = logExportedResources
    }

    /// The resources asked for (sorted, Orthanc's `ParentResources`) and the instances below them, each once; the
    /// resources logged as exported to `remote`. 400 for a malformed identifier, 404 for an unknown one.
    public func resolve(_ body: JSONValue, exportedTo remote: String) async throws -> (parents: [String], instances: [PublicID]) {
        let requested = try identifiers(body)
        let (levels, ids) = try await expand(requested)
        if logExportedResources {
            for (level, id) in levels { try await exports.record(level, id, remoteModality: remote) }
        }
        return (requested.map(\.value).sorted(), ids)
    }

    /// The instances below `requested` (resources of any level), in order, each once; 404 for an unknown one.
    public func instances(below requested: [PublicID]) async throws -> [PublicID] {
        try await expand(requested).instances
    }

    private func expand(_ requested: [PublicID]) async throws -> (levels: [(ResourceLevel, PublicID)], instances: [PublicID]) {
        var levels: [(ResourceLevel, PublicID)] = []
        for id in requested {
            guard let level = try await resources.level(of: id) else {
                throw TesseraError(.unknownResource, details: "Unknown resource: \(id.value)")
            }
            levels.append((level, id))
        }
        var seen = Set<PublicID>()
        return (levels, try await instances.archiveEntries(levels).map(\.instance).filter { seen.insert($0).inserted })
    }

    private func identifiers(_ body: JSONValue) throws -> [PublicID] {
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
}
