import Model

/// What a `ResourceModification` job does (`POST /patients|studies|series/{id}/modify|anonymize`, and
/// `/tools/bulk-modify|bulk-anonymize`): the resource (none for a bulk job), the instances at submission, the request
/// body, and the seed of its UID mapping.
public struct ResourceModificationRequest: Sendable {
    /// Orthanc's job type.
    public static let type = "ResourceModification"

    /// The level of the modification: the resource's, or for a bulk job `Level` (else the level the replaced
    /// identifiers imply).
    public var level: ResourceLevel
    /// The modified resource; nil for a bulk job, whose answer lists every resource it made (`Resources`).
    public var resource: PublicID?
    public var instances: [PublicID]
    /// The `/modify` body as the client sent it (parsed again by the worker).
    public var body: JSONValue
    public var keepSource: Bool
    /// Makes the new UIDs (see `UIDMapping`): the job's own, so that a resumed job makes the same instances.
    public var seed: String
    /// An anonymization (`/anonymize`), with the patient name it generated when the body sets none.
    public var anonymization: Bool
    public var patientName: String?

    public var isBulk: Bool { resource == nil }

    public init(level: ResourceLevel, resource: PublicID?, instances: [PublicID], body: JSONValue, keepSource: Bool, seed: String,
                anonymization: Bool = false, patientName: String? = nil) {
        self.level = level
        self.resource = resource
        self.instances = instances
        self.body = body
        self.keepSource = keepSource
        self.seed = seed
        self.anonymization = anonymization
        self.patientName = patientName
    }

    public init(json: JSONValue) throws(TesseraError) {
        guard let levelName = json["Level"]?.stringValue, let level = ResourceLevel(rawValue: levelName),
              case .array(let ids)? = json["Instances"],
              let body = json["Body"], let seed = json["Seed"]?.stringValue else {
            throw TesseraError(.internalError, details: "Malformed ResourceModification job")
        }
        let resource = json["Resource"]?.stringValue.flatMap { PublicID(validating: $0) }
        self.init(level: level, resource: resource, instances: ids.compactMap { $0.stringValue.flatMap({ PublicID(validating: $0) }) }, body: body,
                  keepSource: json["KeepSource"] == .bool(true), seed: seed, anonymization: json["Anonymization"] == .bool(true),
                  patientName: json["PatientName"]?.stringValue)
    }

    public var json: JSONValue {
        .object(["Level": .string(level.rawValue), "Resource": resource.map { .string($0.value) } ?? .null,
                 "Instances": .array(instances.map { .string($0.value) }), "Body": body, "KeepSource": .bool(keepSource),
                 "Seed": .string(seed), "Anonymization": .bool(anonymization), "PatientName": patientName.map(JSONValue.string) ?? .null])
    }

    /// Orthanc's public content while running, and once done with the new resource (`ID`, `Path`, `PatientID`, `Type`);
    /// a bulk job's lists the resources made (`Resources`: instances, series, studies then patients, each sorted).
    public func content(failed: Int, result: (id: PublicID, patient: PublicID)? = nil,
                        made: [ResourceLevel: Set<PublicID>] = [:]) -> JSONValue {
        var content: [String: JSONValue] = [
            "Description": "REST API", "FailedInstancesCount": .number(Double(failed)),
            "InstancesCount": .number(Double(instances.count)), "IsAnonymization": .bool(anonymization),
        ]
        if let syntax = body["Transcode"]?.stringValue {
            content["Transcode"] = .string(syntax)
        }
        if isBulk {
            content["Resources"] = .array([ResourceLevel.instance, .series, .study, .patient].flatMap { level in
                (made[level] ?? []).map(\.value).sorted().map { id -> JSONValue in
                    .object(["ID": .string(id), "Path": .string("/\(level.collection)/\(id)"), "Type": .string(level.rawValue)])
                }
            })
        }
        if let result {
            content["ID"] = .string(result.id.value)
            content["Path"] = .string("/\(level.collection)/\(result.id.value)")
            content["PatientID"] = .string(result.patient.value)
            content["Type"] = .string(level.rawValue)
        }
        return .object(content)
    }
}
