import Model

/// A version of the PS 3.15 Table E.1-1 Basic Profile as Orthanc applies it (tables recorded from stock Orthanc by
/// scripts/orthanc-anonymization-profile.py): attributes removed, emptied, or given new identifiers, at the top level
/// and inside every sequence item.
public struct AnonymizationProfile: Sendable {
    /// `2008`, `2017c`, `2021b` or `2023b` (Orthanc's `DicomVersion`).
    public let version: String
    public let removed: Set<DicomTag>
    public let emptied: Set<DicomTag>
    /// UIDs (and PatientID) replaced by new values, one per original value.
    public let mapped: Set<DicomTag>

    init(version: String, removed: Set<DicomTag>, emptied: Set<DicomTag>, mapped: Set<DicomTag>) {
        self.version = version
        self.removed = removed
        self.emptied = emptied
        self.mapped = mapped
    }

    /// The profile of a `DicomVersion`; 2023b by default, as Orthanc 1.12.1 and later (Debian's Orthanc 1.10.1, the
    /// tests' oracle, defaults to 2021b: the tests name 2021b when they compare with it).
    public static func named(_ version: String?) throws(TesseraError) -> AnonymizationProfile {
        switch version {
        case "2021b": return v2021b
        case "2017c": return v2017c
        case "2008": return v2008
        case nil, "2023b": return v2023b
        case let other?:
            throw TesseraError(.parameterOutOfRange, details: "Unknown specific version of the DICOM standard: \(other)")
        }
    }

    /// The text of DeidentificationMethod (0012,0063).
    public var method: String {
        "Tessera - PS 3.15-\(version) Table E.1-1" + (version == "2008" ? "" : " Basic Profile")
    }

    /// The level whose identifier a mapped tag is (new patient IDs are UUIDs, new UIDs come from that level's root).
    public static func level(of tag: DicomTag) -> ResourceLevel {
        switch tag {
        case .patientID: .patient
        case .studyInstanceUID: .study
        case .seriesInstanceUID: .series
        default: .instance
        }
    }
}
