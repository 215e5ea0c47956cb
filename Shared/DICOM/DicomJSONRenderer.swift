import CDICOM
import Model

/// Renders a dataset (or the meta header) as Orthanc 1.10 prints it in `/instances/{id}/tags` and `/header`.
///
/// Values are converted to UTF-8 from the dataset's SpecificCharacterSet (Latin-1 when absent, Orthanc's
/// default); binary values are null; a value longer than `maxStringLength` bytes in UTF-8 is `TooLong`;
/// numbers are formatted as Orthanc formats them; elements after the pixel data are not shown unless `whole`.
public struct DicomJSONRenderer: Sendable {
    /// Orthanc's ORTHANC_MAXIMUM_TAG_LENGTH.
    public static let defaultMaxStringLength = 256

    public var format: DicomJSONFormat
    public var maxStringLength: Int
    /// Tags shown whatever their length (Orthanc's `?ignore-length=`), at any depth.
    public var ignoringLength: Set<DicomTag> = []
    /// Whether elements after the pixel data are shown too (Orthanc 1.12.4's `/tags?whole`).
    public var whole = false

    public init(format: DicomJSONFormat, maxStringLength: Int = DicomJSONRenderer.defaultMaxStringLength) {
        self.format = format
        self.maxStringLength = maxStringLength
    }

    /// The main dataset of `file`.
    public func render(datasetOf file: DicomFile) -> JSONValue {
        let charset = DicomCharset(datasetOf: file)
        return withExtendedLifetime((file, charset)) {
            render(item: file.dataset.pointer, charset: charset.pointer, topLevel: true, includeBinary: true)
        }
    }

    /// The file meta information (group 0002), which is always ASCII; Orthanc leaves its binary elements out.
    public func render(metaHeaderOf file: DicomFile) -> JSONValue {
        withExtendedLifetime(file) {
            render(item: file.metaHeader.pointer, charset: nil, topLevel: true, includeBinary: false)
        }
    }

    /// Value representations that Orthanc treats as binary.
    private static let binaryVRs: Set<String> = ["OB", "OF", "OW", "UN", "ox"]

    /// A leaf element's value as Orthanc classifies it.
    private enum Leaf {
        case text(String)
        case tooLong
        case null
    }

    private func render(item: OpaquePointer?, charset: OpaquePointer?, topLevel: Bool, includeBinary: Bool) -> JSONValue {
        var members: [String: JSONValue] = [:]
        let count = cdicom_item_element_count(item)
        var index: UInt = 0
        while index < count {
            defer { index += 1 }
            var info = cdicom_element_info()
            guard cdicom_item_element_at(item, index, &info) != 0 else { continue }
            let tag = DicomTag(info.group, info.element)
            if !includeBinary && Self.binaryVRs.contains(Self.vr(info)) { continue }
            if info.is_sequence != 0 {
                let items = max(0, cdicom_item_element_item_count(item, index))
                let value = JSONValue.array((0..<items).map { position in
                    render(item: cdicom_item_element_item(item, index, UInt(position)), charset: charset, topLevel: false,
                           includeBinary: includeBinary)
                })
                switch format {
                case .short: members[tag.description] = value
                case .human: members[name(item: item, index: index, tag: tag).name] = value
                case .full:
                    members[tag.description] = ["Name": .string(name(item: item, index: index, tag: tag).name), "Type": "Sequence", "Value": value]
                }
            } else {
                let leaf = leafValue(item: item, index: index, charset: charset, tag: tag)
                var plain = JSONValue.null
                if case .text(let text) = leaf { plain = .string(text) }
                switch format {
                case .short: members[tag.description] = plain
                case .human: members[name(item: item, index: index, tag: tag).name] = plain
                case .full:
                    let (name, creator) = name(item: item, index: index, tag: tag)
                    var node: [String: JSONValue] = ["Name": .string(name), "Value": plain]
                    if let creator { node["PrivateCreator"] = .string(creator) }
                    switch leaf {
                    case .text: node["Type"] = "String"
                    case .tooLong: node["Type"] = "TooLong"
                    case .null: node["Type"] = "Null"
                    }
                    members[tag.description] = .object(node)
                }
            }
            if topLevel && tag == .pixelData && !whole { break }
        }
        return .object(members)
    }

    private func leafValue(item: OpaquePointer?, index: UInt, charset: OpaquePointer?, tag: DicomTag) -> Leaf {
        var text: UnsafeMutablePointer<CChar>?
        var length = 0
        guard cdicom_item_element_text(item, index, charset, &text, &length) != 0, let text else { return .null }
        defer { cdicom_free(text) }
        if maxStringLength > 0 && length > maxStringLength && !ignoringLength.contains(tag) { return .tooLong }
        return .text(String(decoding: UnsafeRawBufferPointer(start: text, count: length), as: UTF8.self))
    }

    private static func vr(_ info: cdicom_element_info) -> String {
        String(decoding: [UInt8(bitPattern: info.vr.0), UInt8(bitPattern: info.vr.1)], as: UTF8.self)
    }

    /// The dictionary name (Orthanc's own name for its main tags) and the private creator.
    private func name(item: OpaquePointer?, index: UInt, tag: DicomTag) -> (name: String, privateCreator: String?) {
        var name: UnsafeMutablePointer<CChar>?
        var creator: UnsafeMutablePointer<CChar>?
        guard cdicom_item_element_name(item, index, &name, &creator) != 0, let name else { return ("Unknown Tag & Data", nil) }
        defer {
            cdicom_free(name)
            cdicom_free(creator)
        }
        return (MainDicomTag.orthancName(of: tag) ?? String(cString: name), creator.map { String(cString: $0) })
    }
}
