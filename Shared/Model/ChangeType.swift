/// Orthanc's change types, with the codes Orthanc stores (`ServerEnumerations.h`).
public enum ChangeType: Int, Sendable, Hashable, CaseIterable {
    case completedSeries = 1
    case newInstance = 2
    case newPatient = 3
    case newSeries = 4
    case newStudy = 5
    case anonymizedStudy = 6
    case anonymizedSeries = 7
    case modifiedStudy = 8
    case modifiedSeries = 9
    case anonymizedPatient = 10
    case modifiedPatient = 11
    case stablePatient = 12
    case stableStudy = 13
    case stableSeries = 14
    case updatedAttachment = 15
    case updatedMetadata = 16

    /// The name Orthanc prints in `/changes`.
    public var name: String {
        switch self {
        case .completedSeries: "CompletedSeries"
        case .newInstance: "NewInstance"
        case .newPatient: "NewPatient"
        case .newSeries: "NewSeries"
        case .newStudy: "NewStudy"
        case .anonymizedStudy: "AnonymizedStudy"
        case .anonymizedSeries: "AnonymizedSeries"
        case .modifiedStudy: "ModifiedStudy"
        case .modifiedSeries: "ModifiedSeries"
        case .anonymizedPatient: "AnonymizedPatient"
        case .modifiedPatient: "ModifiedPatient"
        case .stablePatient: "StablePatient"
        case .stableStudy: "StableStudy"
        case .stableSeries: "StableSeries"
        case .updatedAttachment: "UpdatedAttachment"
        case .updatedMetadata: "UpdatedMetadata"
        }
    }

    /// The `New...` change of a level.
    public static func new(_ level: ResourceLevel) -> ChangeType {
        switch level {
        case .patient: .newPatient
        case .study: .newStudy
        case .series: .newSeries
        case .instance: .newInstance
        }
    }

    /// The `Stable...` change of a level (instances have none).
    public static func stable(_ level: ResourceLevel) -> ChangeType? {
        switch level {
        case .patient: .stablePatient
        case .study: .stableStudy
        case .series: .stableSeries
        case .instance: nil
        }
    }
}
