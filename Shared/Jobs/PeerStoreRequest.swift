import Model

/// What an `OrthancPeerStore` job sends, and where: fixed when the job is submitted (the instances below the requested
/// resources, the peer as it was configured then), stored as the job's request.
public struct PeerStoreRequest: Sendable, Equatable {
    /// Symbolic name of the peer (for `/exports`).
    public var peerName: String
    public var peer: PeerConfiguration
    public var permissive: Bool
    /// The resources the user asked for, sorted (Orthanc's `ParentResources`).
    public var parentResources: [String]
    public var instances: [PublicID]
    public var description: String
    /// `Compress`: each file sent gzip-compressed (`Content-Encoding: gzip`, Orthanc 1.6+ peers).
    public var compress: Bool
    /// `Transcode`: each file re-encoded in this transfer syntax first (sent as stored when it cannot be).
    public var transcode: String?

    public init(peerName: String, peer: PeerConfiguration, permissive: Bool, parentResources: [String],
                instances: [PublicID], description: String = "REST API", compress: Bool = false, transcode: String? = nil) {
        self.transcode = transcode
        self.peerName = peerName
        self.peer = peer
        self.permissive = permissive
        self.parentResources = parentResources
        self.instances = instances
        self.description = description
        self.compress = compress
    }

    /// Orthanc's job type.
    public static let type = "OrthancPeerStore"

    public var json: JSONValue {
        var members: [String: JSONValue] = [
            "PeerName": .string(peerName), "Peer": peer.storedJSON, "Permissive": .bool(permissive),
            "ParentResources": .array(parentResources.map(JSONValue.string)),
            "Instances": .array(instances.map { .string($0.value) }), "Description": .string(description),
            "Compress": .bool(compress),
        ]
        if let transcode { members["Transcode"] = .string(transcode) }
        return .object(members)
    }

    public init(json: JSONValue) throws(TesseraError) {
        guard let name = json["PeerName"]?.stringValue, let peer = json["Peer"], case .array(let parents)? = json["ParentResources"],
              case .array(let instances)? = json["Instances"] else {
            throw TesseraError(.internalError, details: "An OrthancPeerStore job's request is incomplete")
        }
        self.init(peerName: name, peer: try PeerConfiguration(json: peer), permissive: json["Permissive"]?.boolValue ?? false,
                  parentResources: parents.compactMap(\.stringValue),
                  instances: instances.compactMap { $0.stringValue.map(PublicID.init(unchecked:)) },
                  description: json["Description"]?.stringValue ?? "REST API", compress: json["Compress"]?.boolValue ?? false,
                  transcode: json["Transcode"]?.stringValue)
    }

    /// Orthanc's public `Content`: `Size` (a string, in bytes) and `SizeMB` of what was sent (compressed, with `Compress`).
    public func content(failed: Int, bytes: Int64) -> JSONValue {
        .object([
            "Description": .string(description), "InstancesCount": .number(Double(instances.count)),
            "FailedInstancesCount": .number(Double(failed)), "ParentResources": .array(parentResources.map(JSONValue.string)),
            "Peer": .array([.string(peer.url)]), "Compress": .bool(compress), "Size": .string(String(bytes)),
            "SizeMB": .number(Double(bytes / 1_048_576)),
        ])
    }
}
