/// A tag that Orthanc records in the index for a resource level, with the name used as JSON key.
public struct MainDicomTag: Sendable, Hashable {
    public let tag: DicomTag
    public let name: String

    public init(_ group: UInt16, _ element: UInt16, _ name: String) {
        self.tag = DicomTag(group, element)
        self.name = name
    }

    /// Orthanc 1.12's main DICOM tags of `level` (Book, `faq/main-dicom-tags.rst`).
    public static func forLevel(_ level: ResourceLevel) -> [MainDicomTag] {
        switch level {
        case .patient: patient
        case .study: study
        case .series: series
        case .instance: instance
        }
    }

    public static let patient: [MainDicomTag] = [
        .init(0x0010, 0x0010, "PatientName"),
        .init(0x0010, 0x0020, "PatientID"),
        .init(0x0010, 0x0030, "PatientBirthDate"),
        .init(0x0010, 0x0040, "PatientSex"),
        .init(0x0010, 0x1000, "OtherPatientIDs"),
    ]

    public static let study: [MainDicomTag] = [
        .init(0x0008, 0x0020, "StudyDate"),
        .init(0x0008, 0x0030, "StudyTime"),
        .init(0x0020, 0x0010, "StudyID"),
        .init(0x0008, 0x1030, "StudyDescription"),
        .init(0x0008, 0x0050, "AccessionNumber"),
        .init(0x0020, 0x000D, "StudyInstanceUID"),
        .init(0x0032, 0x1060, "RequestedProcedureDescription"),
        .init(0x0008, 0x0080, "InstitutionName"),
        .init(0x0032, 0x1032, "RequestingPhysician"),
        .init(0x0008, 0x0090, "ReferringPhysicianName"),
    ]

    public static let series: [MainDicomTag] = [
        .init(0x0008, 0x0021, "SeriesDate"),
        .init(0x0008, 0x0031, "SeriesTime"),
        .init(0x0008, 0x0060, "Modality"),
        .init(0x0008, 0x0070, "Manufacturer"),
        .init(0x0008, 0x1010, "StationName"),
        .init(0x0008, 0x103E, "SeriesDescription"),
        .init(0x0018, 0x0015, "BodyPartExamined"),
        .init(0x0018, 0x0024, "SequenceName"),
        .init(0x0018, 0x1030, "ProtocolName"),
        .init(0x0020, 0x0011, "SeriesNumber"),
        .init(0x0018, 0x1090, "CardiacNumberOfImages"),
        .init(0x0020, 0x1002, "ImagesInAcquisition"),
        .init(0x0020, 0x0105, "NumberOfTemporalPositions"),
        .init(0x0054, 0x0081, "NumberOfSlices"),
        .init(0x0054, 0x0101, "NumberOfTimeSlices"),
        .init(0x0020, 0x000E, "SeriesInstanceUID"),
        .init(0x0020, 0x0037, "ImageOrientationPatient"),
        .init(0x0054, 0x1000, "SeriesType"),
        .init(0x0008, 0x1070, "OperatorsName"),
        .init(0x0040, 0x0254, "PerformedProcedureStepDescription"),
        .init(0x0018, 0x1400, "AcquisitionDeviceProcessingDescription"),
        .init(0x0018, 0x0010, "ContrastBolusAgent"),
    ]

    public static let instance: [MainDicomTag] = [
        .init(0x0008, 0x0012, "InstanceCreationDate"),
        .init(0x0008, 0x0013, "InstanceCreationTime"),
        .init(0x0020, 0x0012, "AcquisitionNumber"),
        .init(0x0054, 0x1330, "ImageIndex"),
        .init(0x0020, 0x0013, "InstanceNumber"),
        .init(0x0028, 0x0008, "NumberOfFrames"),
        .init(0x0020, 0x0100, "TemporalPositionIdentifier"),
        .init(0x0008, 0x0018, "SOPInstanceUID"),
        .init(0x0020, 0x0032, "ImagePositionPatient"),
        .init(0x0020, 0x4000, "ImageComments"),
        .init(0x0020, 0x0037, "ImageOrientationPatient"),
    ]
}

extension MainDicomTag {
    /// Orthanc's name for a main DICOM tag of any level: it takes precedence over the DICOM dictionary's name
    /// (which calls some of them `RETIRED_...`) when Orthanc prints tags.
    public static func orthancName(of tag: DicomTag) -> String? { namesByTag[tag] }

    private static let namesByTag: [DicomTag: String] = Dictionary(
        (patient + study + series + instance).map { ($0.tag, $0.name) }, uniquingKeysWith: { first, _ in first })
}
