/// The four levels of Orthanc's resource tree.
public enum ResourceLevel: String, Sendable, Hashable, CaseIterable, Codable {
    case patient = "Patient"
    case study = "Study"
    case series = "Series"
    case instance = "Instance"

    /// Orthanc's `ResourceType` code (1 patient ... 4 instance), as stored in the index.
    public var code: Int16 {
        switch self {
        case .patient: 1
        case .study: 2
        case .series: 3
        case .instance: 4
        }
    }

    /// The level of an Orthanc `ResourceType` code.
    public init?(code: Int16) {
        guard let level = Self.allCases.first(where: { $0.code == code }) else { return nil }
        self = level
    }

    /// The level Orthanc's `StringToResourceType` reads: any case, plurals, and IMAGE for instances.
    public init?(orthancName name: String) {
        switch name.uppercased() {
        case "PATIENT", "PATIENTS": self = .patient
        case "STUDY", "STUDIES": self = .study
        case "SERIES": self = .series
        case "INSTANCE", "INSTANCES", "IMAGE", "IMAGES": self = .instance
        default: return nil
        }
    }

    /// 0 for patients ... 3 for instances.
    public var depth: Int { Int(code) - 1 }

    /// The level below this one (nil for instances).
    public var child: ResourceLevel? {
        switch self {
        case .patient: .study
        case .study: .series
        case .series: .instance
        case .instance: nil
        }
    }

    /// The level above this one (nil for patients).
    public var parent: ResourceLevel? {
        switch self {
        case .patient: nil
        case .study: .patient
        case .series: .study
        case .instance: .series
        }
    }

    /// The REST collection of this level (`patients`, `studies`, `series`, `instances`).
    public var collection: String {
        switch self {
        case .patient: "patients"
        case .study: "studies"
        case .series: "series"
        case .instance: "instances"
        }
    }
}
