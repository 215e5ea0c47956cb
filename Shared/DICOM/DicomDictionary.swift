import CDICOM
import Model

/// The DICOM data dictionary: tags by keyword or `gggg,eeee`, with their value representation.
public enum DicomDictionary {
    /// A dictionary entry.
    public struct Entry: Sendable, Hashable {
        public let tag: DicomTag
        /// Two-letter value representation (`PN`, `DA`, `SQ`, ...; `UN` for unknown private tags).
        public let vr: String
    }

    /// The entry for a keyword such as `PatientName` or a hex form such as `0010,0010`; nil when unknown.
    public static func lookup(_ name: String) -> Entry? {
        var group: UInt16 = 0
        var element: UInt16 = 0
        var vr: (CChar, CChar, CChar) = (0, 0, 0)
        let found = withUnsafeMutablePointer(to: &vr) { pointer in
            pointer.withMemoryRebound(to: CChar.self, capacity: 3) { cdicom_dictionary_lookup(name, &group, &element, $0) }
        }
        guard found != 0 else { return nil }
        let text = withUnsafeBytes(of: vr) { String(decoding: $0.prefix(2), as: UTF8.self) }
        return Entry(tag: DicomTag(group, element), vr: text)
    }

    /// The dictionary keyword of a tag (`PatientName`); nil when the dictionary does not know it.
    public static func name(of tag: DicomTag) -> String? {
        var buffer = [CChar](repeating: 0, count: 128)
        guard cdicom_dictionary_name(tag.group, tag.element, &buffer, buffer.count) != 0 else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
