/// The four levels of Orthanc's resource tree.
public enum ResourceLevel: String, Sendable, Hashable, CaseIterable, Codable {
    case patient = "Patient"
    case study = "Study"
    case series = "Series"
    case instance = "Instance"

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
