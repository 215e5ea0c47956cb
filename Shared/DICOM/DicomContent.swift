import CDICOM
import Model

/// Orthanc's `/instances/{id}/content/...` navigation: a path of tags and item indexes into a dataset.
/// An item (or the dataset) lists its tags as `gggg-eeee`; a sequence lists its item indexes; pixel data lists
/// its fragments (encapsulated: offset table first) or one item (native); a leaf answers its raw value.
public enum DicomContent {
    /// What a path leads to.
    public enum Node: Sendable, Equatable {
        case list([String])
        case value([UInt8])
    }

    /// Follows `path` (empty components are ignored, as a trailing slash). Nil when nothing is there (404);
    /// throws `unknownDicomTag` for a component that cannot be a tag.
    public static func resolve(_ path: [String], in file: DicomFile) throws(TesseraError) -> Node? {
        let components = path.filter { !$0.isEmpty }
        return try withExtendedLifetime(file) { () throws(TesseraError) -> Node? in
            try resolve(components[...], item: file.dataset.pointer)
        }
    }

    private static func resolve(_ path: ArraySlice<String>, item: OpaquePointer?) throws(TesseraError) -> Node? {
        guard let first = path.first else { return .list(tags(of: item)) }
        let tag = try parseTag(first)
        guard let index = elementIndex(of: tag, in: item) else { return nil }
        let rest = path.dropFirst()
        let sequenceItems = cdicom_item_element_item_count(item, index)
        if sequenceItems >= 0 {
            guard let position = rest.first else { return .list((0..<sequenceItems).map(String.init)) }
            guard let chosen = itemIndex(position, count: Int(sequenceItems)) else { return nil }
            return try resolve(rest.dropFirst(), item: cdicom_item_element_item(item, index, UInt(chosen)))
        }
        let fragments = cdicom_item_element_fragment_count(item, index)
        if tag == .pixelData {
            let count = fragments >= 0 ? Int(fragments) : 1
            guard let position = rest.first else { return .list((0..<count).map(String.init)) }
            guard rest.count == 1, let chosen = itemIndex(position, count: count) else { return nil }
            return raw(item, index, fragment: fragments >= 0 ? chosen : -1)
        }
        guard rest.isEmpty else { return nil }
        return raw(item, index, fragment: -1)
    }

    /// `gggg-eeee`, `gggg,eeee`, `ggggeeee` (any case) or a dictionary keyword.
    public static func parseTag(_ text: String) throws(TesseraError) -> DicomTag {
        let hex = text.filter { $0 != "-" && $0 != "," }
        if hex.count == 8, hex.allSatisfy(\.isHexDigit), text.count == 8 || (text.count == 9 && [",", "-"].contains(Array(text)[4])),
           let group = UInt16(hex.prefix(4), radix: 16), let element = UInt16(hex.suffix(4), radix: 16) {
            return DicomTag(group, element)
        }
        guard let entry = DicomDictionary.lookup(text) else {
            throw TesseraError(.unknownDicomTag, details: "Unknown DICOM tag: \"\(text)\"")
        }
        return entry.tag
    }

    /// An item index as Orthanc reads it (`size_t` cast: "01" is 1, "-1" wraps to the last item).
    static func itemIndex(_ text: String, count: Int) -> Int? {
        if text == "-1" || text == String(UInt64.max) { return count > 0 ? count - 1 : nil }
        guard text.allSatisfy(\.isASCIIDigit), let value = Int(text), value < count else { return nil }
        return value
    }

    private static func tags(of item: OpaquePointer?) -> [String] {
        var tags: [String] = []
        let count = cdicom_item_element_count(item)
        var index: UInt = 0
        while index < count {
            var info = cdicom_element_info()
            if cdicom_item_element_at(item, index, &info) != 0 {
                tags.append(DicomTag(info.group, info.element).description.replacingOccurrences(of: ",", with: "-"))
            }
            index += 1
        }
        return tags
    }

    private static func elementIndex(of tag: DicomTag, in item: OpaquePointer?) -> UInt? {
        let count = cdicom_item_element_count(item)
        var index: UInt = 0
        while index < count {
            var info = cdicom_element_info()
            if cdicom_item_element_at(item, index, &info) != 0, info.group == tag.group, info.element == tag.element {
                return index
            }
            index += 1
        }
        return nil
    }

    private static func raw(_ item: OpaquePointer?, _ index: UInt, fragment: Int) -> Node? {
        var bytes: UnsafeMutablePointer<UInt8>?
        var length = 0
        guard cdicom_item_element_raw(item, index, fragment, &bytes, &length) != 0, let bytes else { return nil }
        defer { cdicom_free(bytes) }
        return .value(Array(UnsafeBufferPointer(start: bytes, count: length)))
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
