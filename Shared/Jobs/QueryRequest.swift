import DICOM
import Model

/// A C-FIND or C-MOVE request of a job: the modality as configured when it was submitted, our AE title, the timeout,
/// and the identifiers (`gggg,eeee` → value, QueryRetrieveLevel included).
public struct QueryRequest: Sendable, Equatable {
    public var modalityName: String
    public var remote: ModalityConfiguration
    public var localAet: String
    public var timeoutSeconds: Int
    public var level: QueryLevel
    public var queries: [[String: String]]
    /// C-MOVE only: the destination AE title.
    public var targetAet: String?

    public init(modalityName: String, remote: ModalityConfiguration, localAet: String, timeoutSeconds: Int,
                level: QueryLevel, queries: [[String: String]], targetAet: String? = nil) {
        self.modalityName = modalityName
        self.remote = remote
        self.localAet = localAet
        self.timeoutSeconds = timeoutSeconds
        self.level = level
        self.queries = queries
        self.targetAet = targetAet
    }

    public var json: JSONValue {
        var members: [String: JSONValue] = [
            "Modality": .string(modalityName), "Remote": remote.json, "LocalAet": .string(localAet),
            "Timeout": .number(Double(timeoutSeconds)), "Level": .string(level.rawValue),
            "Queries": .array(queries.map { .object($0.mapValues(JSONValue.string)) }),
        ]
        if let targetAet { members["TargetAet"] = .string(targetAet) }
        return .object(members)
    }

    public init(json: JSONValue) throws(TesseraError) {
        guard let name = json["Modality"]?.stringValue, let remote = json["Remote"], let localAet = json["LocalAet"]?.stringValue,
              let timeout = json["Timeout"]?.intValue, let level = json["Level"]?.stringValue.flatMap(QueryLevel.init(name:)),
              case .array(let queries)? = json["Queries"] else {
            throw TesseraError(.internalError, details: "A query job's request is incomplete")
        }
        self.init(modalityName: name, remote: try ModalityConfiguration(json: remote), localAet: localAet,
                  timeoutSeconds: timeout, level: level,
                  queries: queries.map { query in
                      guard case .object(let members) = query else { return [:] }
                      return members.compactMapValues(\.stringValue)
                  },
                  targetAet: json["TargetAet"]?.stringValue)
    }

    /// The peer to associate with (DICOM TLS from `associations` when the modality uses it).
    func peer(maximumPDU: Int, through associations: AssociationPool) throws(TesseraError) -> StoreSCU.Peer {
        try associations.peer(remote, callingAET: localAet, timeoutSeconds: timeoutSeconds, maximumPDU: maximumPDU)
    }

    /// A query as the shim takes it: tags parsed from `gggg,eeee`.
    public static func attributes(_ query: [String: String]) -> [(DicomTag, String)] {
        query.compactMap { key, value in
            let parts = key.split(separator: ",")
            guard parts.count == 2, let group = UInt16(parts[0], radix: 16), let element = UInt16(parts[1], radix: 16) else { return nil }
            return (DicomTag(group, element), value)
        }.sorted { $0.0 < $1.0 }
    }
}
