/// A DICOM attribute tag (group, element).
public struct DicomTag: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let group: UInt16
    public let element: UInt16

    public init(_ group: UInt16, _ element: UInt16) {
        self.group = group
        self.element = element
    }

    /// Orthanc's textual form `gggg,eeee` (lowercase hex).
    public var description: String { "\(Self.hex(group)),\(Self.hex(element))" }

    public static func < (lhs: DicomTag, rhs: DicomTag) -> Bool {
        (lhs.group, lhs.element) < (rhs.group, rhs.element)
    }

    private static func hex(_ value: UInt16) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: 4 - text.count) + text
    }

    public static let patientName = DicomTag(0x0010, 0x0010)
    public static let patientID = DicomTag(0x0010, 0x0020)
    public static let studyInstanceUID = DicomTag(0x0020, 0x000D)
    public static let seriesInstanceUID = DicomTag(0x0020, 0x000E)
    public static let sopInstanceUID = DicomTag(0x0008, 0x0018)
    public static let sopClassUID = DicomTag(0x0008, 0x0016)
    public static let specificCharacterSet = DicomTag(0x0008, 0x0005)
    public static let instanceNumber = DicomTag(0x0020, 0x0013)
    public static let imageIndex = DicomTag(0x0054, 0x1330)
    public static let transferSyntaxUID = DicomTag(0x0002, 0x0010)
    public static let pixelData = DicomTag(0x7FE0, 0x0010)
}
