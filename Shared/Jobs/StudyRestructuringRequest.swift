import Model
import Modification

/// What a `MergeStudy` or `SplitStudy` job does (`POST /studies/{id}/merge|split`): the study of the URL (the target
/// of a merge, the source of a split), the instances moved, what is done to each, and the seed of its UID mapping.
public struct StudyRestructuringRequest: Sendable {
    public enum Kind: String, Sendable {
        case merge = "MergeStudy"
        case split = "SplitStudy"
    }

    public var kind: Kind
    public var study: PublicID
    public var instances: [PublicID]
    public var restructuring: StudyRestructuring
    /// Orthanc's default is false for both: the originals are deleted once every copy is stored.
    public var keepSource: Bool
    /// Makes the new Series and SOP Instance UIDs (see `UIDMapping`), so that a resumed job makes the same instances.
    public var seed: String

    public init(kind: Kind, study: PublicID, instances: [PublicID], restructuring: StudyRestructuring, keepSource: Bool,
                seed: String) {
        self.kind = kind
        self.study = study
        self.instances = instances
        self.restructuring = restructuring
        self.keepSource = keepSource
        self.seed = seed
    }

    public init(json: JSONValue) throws(TesseraError) {
        guard let kind = json["Kind"]?.stringValue.flatMap(Kind.init(rawValue:)),
              let study = json["Study"]?.stringValue.flatMap({ PublicID(validating: $0) }),
              case .array(let ids)? = json["Instances"], let restructuring = json["Restructuring"],
              let seed = json["Seed"]?.stringValue else {
            throw TesseraError(.internalError, details: "Malformed study restructuring job")
        }
        self.init(kind: kind, study: study, instances: ids.compactMap { $0.stringValue.flatMap { PublicID(validating: $0) } },
                  restructuring: try StudyRestructuring(json: restructuring), keepSource: json["KeepSource"] == .bool(true),
                  seed: seed)
    }

    public var json: JSONValue {
        .object(["Kind": .string(kind.rawValue), "Study": .string(study.value), "Instances": .array(instances.map { .string($0.value) }),
                 "Restructuring": restructuring.json, "KeepSource": .bool(keepSource), "Seed": .string(seed)])
    }

    /// Orthanc's public content: `TargetStudy` (a merge's study; a split's new study, once its first instance is
    /// stored) and, for a split, `TargetStudyUID`.
    public func content(failed: Int, targetStudy: PublicID? = nil) -> JSONValue {
        var content: [String: JSONValue] = [
            "Description": "REST API", "FailedInstancesCount": .number(Double(failed)),
            "InstancesCount": .number(Double(instances.count)),
        ]
        switch kind {
        case .merge:
            content["TargetStudy"] = .string(study.value)
        case .split:
            if let targetStudy { content["TargetStudy"] = .string(targetStudy.value) }
            content["TargetStudyUID"] = .string(restructuring.targetStudyUID)
        }
        return .object(content)
    }
}
