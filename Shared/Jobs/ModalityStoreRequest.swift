import Model

/// What a `DicomModalityStore` job sends, and where: fixed when the job is submitted (the instances below the
/// requested resources, the modality as it was configured then), stored as the job's request.
public struct ModalityStoreRequest: Sendable, Equatable {
    /// Symbolic name of the modality (for `/exports`).
    public var modalityName: String
    public var remote: ModalityConfiguration
    /// Our AE title for this association.
    public var localAet: String
    /// Seconds for connecting, the association and each response (0: none).
    public var timeoutSeconds: Int
    public var moveOriginatorAet: String?
    public var moveOriginatorID: Int?
    /// Whether a failed instance is counted (`FailedInstancesCount`) instead of failing the job.
    public var permissive: Bool
    /// The resources the user asked for, sorted (Orthanc's `ParentResources`).
    public var parentResources: [String]
    /// The instances to send, in order.
    public var instances: [PublicID]
    public var description: String
    /// With `StorageCommitment: true`: the transaction asked for once every instance was sent.
    public var storageCommitmentTransactionUID: String?

    public init(modalityName: String, remote: ModalityConfiguration, localAet: String, timeoutSeconds: Int,
                moveOriginatorAet: String?, moveOriginatorID: Int?, permissive: Bool, parentResources: [String],
                instances: [PublicID], description: String = "REST API", storageCommitmentTransactionUID: String? = nil) {
        self.modalityName = modalityName
        self.remote = remote
        self.localAet = localAet
        self.timeoutSeconds = timeoutSeconds
        self.moveOriginatorAet = moveOriginatorAet
        self.moveOriginatorID = moveOriginatorID
        self.permissive = permissive
        self.parentResources = parentResources
        self.instances = instances
        self.description = description
        self.storageCommitmentTransactionUID = storageCommitmentTransactionUID
    }

    /// Orthanc's job type.
    public static let type = "DicomModalityStore"

    public var json: JSONValue {
        var members: [String: JSONValue] = [
            "Modality": .string(modalityName), "Remote": remote.json, "LocalAet": .string(localAet),
            "Timeout": .number(Double(timeoutSeconds)), "Permissive": .bool(permissive),
            "ParentResources": .array(parentResources.map(JSONValue.string)),
            "Instances": .array(instances.map { .string($0.value) }), "Description": .string(description),
        ]
        if let moveOriginatorAet { members["MoveOriginatorAet"] = .string(moveOriginatorAet) }
        if let moveOriginatorID { members["MoveOriginatorID"] = .number(Double(moveOriginatorID)) }
        if let storageCommitmentTransactionUID { members["StorageCommitmentTransactionUID"] = .string(storageCommitmentTransactionUID) }
        return .object(members)
    }

    public init(json: JSONValue) throws(TesseraError) {
        guard let name = json["Modality"]?.stringValue, let remote = json["Remote"], let localAet = json["LocalAet"]?.stringValue,
              let timeout = json["Timeout"]?.intValue, case .array(let parents)? = json["ParentResources"],
              case .array(let instances)? = json["Instances"] else {
            throw TesseraError(.internalError, details: "A DicomModalityStore job's request is incomplete")
        }
        self.init(modalityName: name, remote: try ModalityConfiguration(json: remote), localAet: localAet,
                  timeoutSeconds: timeout, moveOriginatorAet: json["MoveOriginatorAet"]?.stringValue,
                  moveOriginatorID: json["MoveOriginatorID"]?.intValue, permissive: json["Permissive"]?.boolValue ?? false,
                  parentResources: parents.compactMap(\.stringValue),
                  instances: instances.compactMap { $0.stringValue.map(PublicID.init(unchecked:)) },
                  description: json["Description"]?.stringValue ?? "REST API",
                  storageCommitmentTransactionUID: json["StorageCommitmentTransactionUID"]?.stringValue)
    }

    /// Orthanc's public `Content` after `failed` of the instances failed (permissive mode).
    public func content(failed: Int) -> JSONValue {
        var members: [String: JSONValue] = [
            "Description": .string(description), "InstancesCount": .number(Double(instances.count)),
            "FailedInstancesCount": .number(Double(failed)), "LocalAet": .string(localAet),
            "RemoteAet": .string(remote.aet), "ParentResources": .array(parentResources.map(JSONValue.string)),
        ]
        if let moveOriginatorAet {
            members["MoveOriginatorAET"] = .string(moveOriginatorAet)
            members["MoveOriginatorID"] = .number(Double(moveOriginatorID ?? 0))
        }
        if let storageCommitmentTransactionUID { members["StorageCommitmentTransactionUID"] = .string(storageCommitmentTransactionUID) }
        return .object(members)
    }
}
