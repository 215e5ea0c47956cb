/// A query/retrieve level, with Orthanc's names and what C-FIND and C-MOVE use at it.
public enum QueryLevel: String, Sendable, CaseIterable {
    case patient = "Patient"
    case study = "Study"
    case series = "Series"
    case instance = "Instance"

    /// Orthanc's `Level` values, any case (`Study`, `STUDY`, `study`); `Image` is an alias of `Instance`.
    public init?(name: String) {
        switch name.lowercased() {
        case "patient": self = .patient
        case "study": self = .study
        case "series": self = .series
        case "instance", "image": self = .instance
        default: return nil
        }
    }

    /// The value of QueryRetrieveLevel (0008,0052).
    public var dicomValue: String {
        switch self {
        case .patient: "PATIENT"
        case .study: "STUDY"
        case .series: "SERIES"
        case .instance: "IMAGE"
        }
    }

    /// The unique key of the level.
    public var uniqueKey: DicomTag {
        switch self {
        case .patient: .patientID
        case .study: .studyInstanceUID
        case .series: .seriesInstanceUID
        case .instance: .sopInstanceUID
        }
    }

    /// The keys a C-MOVE of one answer carries (Orthanc's: the unique keys down to the level, and AccessionNumber).
    public var retrieveKeys: [DicomTag] {
        switch self {
        case .patient: [.patientID]
        case .study: [.patientID, .studyInstanceUID, DicomTag(0x0008, 0x0050)]
        case .series: [.patientID, .studyInstanceUID, DicomTag(0x0008, 0x0050), .seriesInstanceUID]
        case .instance: [.patientID, .studyInstanceUID, DicomTag(0x0008, 0x0050), .seriesInstanceUID, .sopInstanceUID]
        }
    }

    /// The level below (nil for instances).
    public var child: QueryLevel? {
        switch self {
        case .patient: .study
        case .study: .series
        case .series: .instance
        case .instance: nil
        }
    }

    /// Whether this level is below `other` (a series is below a study).
    public func isBelow(_ other: QueryLevel) -> Bool {
        (Self.allCases.firstIndex(of: self) ?? 0) > (Self.allCases.firstIndex(of: other) ?? 0)
    }

    /// QueryRetrieveLevel's tag.
    public static let tag = DicomTag(0x0008, 0x0052)
}
