import DICOM
import Model

/// The identifier of a C-FIND, C-MOVE or C-GET, read as Orthanc reads it: values converted to UTF-8 from the
/// query's SpecificCharacterSet, the meta header, group lengths and SpecificCharacterSet left out, QueryRetrieveLevel
/// kept apart.
public struct DicomQuery: Sendable {
    /// One attribute of the identifier: a constraint when its value is not empty, a return key in any case.
    public struct Key: Sendable, Hashable {
        public let tag: DicomTag
        public let vr: String
        /// The value in UTF-8, trailing spaces removed; empty for universal matching (and for sequences).
        public let value: String
    }

    /// QueryRetrieveLevel as sent (answers repeat it verbatim); nil when absent or empty.
    public var levelText: String?
    public var keys: [Key]

    public static let queryRetrieveLevel = DicomTag(0x0008, 0x0052)
    public static let specificCharacterSet = DicomTag(0x0008, 0x0005)
    public static let retrieveAETitle = DicomTag(0x0008, 0x0054)

    /// Reads an identifier (a DICOM file in memory); `badFileFormat` when it cannot be parsed.
    public init(identifier: [UInt8]) throws(TesseraError) {
        let file = try DicomFile(bytes: identifier)
        let dataset = file.dataset
        let charset = DicomCharset(datasetOf: file)
        var keys: [Key] = []
        var levelText: String?
        for element in dataset.elements {
            let tag = element.tag
            if tag.group < 0x0008 || tag.element == 0x0000 || tag == Self.specificCharacterSet { continue }
            let value = element.vr == "SQ" ? "" : Self.trimmed(dataset.text(tag, charset: charset) ?? "")
            if tag == Self.queryRetrieveLevel {
                levelText = value.isEmpty ? nil : value
                continue
            }
            keys.append(Key(tag: tag, vr: element.vr, value: value))
        }
        self.init(levelText: levelText, keys: keys)
    }

    public init(levelText: String?, keys: [Key]) {
        self.levelText = levelText
        self.keys = keys
    }

    /// The level of QueryRetrieveLevel (Orthanc's `StringToResourceType`: any case, IMAGE and INSTANCE alike); nil
    /// when absent or unknown.
    public var level: ResourceLevel? {
        levelText.flatMap(Self.level)
    }

    public static func level(_ text: String) -> ResourceLevel? {
        ResourceLevel(orthancName: text)
    }

    /// The value of an attribute when the identifier has it (possibly empty).
    public func value(_ tag: DicomTag) -> String? {
        keys.first { $0.tag == tag }?.value
    }

    static func trimmed(_ text: String) -> String {
        var text = Substring(text)
        while let last = text.last, last == " " || last == "\0" { text = text.dropLast() }
        while let first = text.first, first == " " { text = text.dropFirst() }
        return String(text)
    }
}
