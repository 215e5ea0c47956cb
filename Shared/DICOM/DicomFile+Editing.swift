import CDICOM
import Model

/// Editing a parsed file in place (modification), then writing it back. Paths name existing sequence items in
/// DCMTK's syntax (`(0008,1115)[0].(0008,1199)[*]`; empty for the dataset); nothing creates items on its way.
extension DicomFile {
    /// Removes the private elements at every depth, but the top-level ones in `kept`.
    public func removePrivateTags(keeping kept: Set<DicomTag> = []) throws(TesseraError) {
        let tags = kept.map { UInt32($0.group) << 16 | UInt32($0.element) }
        guard cdicom_file_remove_private_tags(handle, tags, tags.count) != 0 else {
            throw TesseraError(.internalError, details: "Cannot remove the private tags")
        }
    }

    /// Removes `tag` from the dataset or from every item `prefix` designates; a missing element is no error.
    public func remove(_ tag: DicomTag, in prefix: String = "") throws(TesseraError) {
        var error = [CChar](repeating: 0, count: 512)
        guard cdicom_file_remove(handle, prefix, tag.group, tag.element, &error, error.count) != 0 else {
            throw TesseraError(.badRequest, details: Self.text(error))
        }
    }

    /// Sets `tag` (inserted when absent) in the dataset or in every item `prefix` designates. `value` is UTF-8 text
    /// converted to the file's character set (else `defaultCharset`, a defined term such as `ISO_IR 100`), or bytes
    /// kept as they are when `binary`. Replacing SOPInstanceUID or SOPClassUID updates the meta header.
    public func replace(_ tag: DicomTag, with value: [UInt8], binary: Bool = false, in prefix: String = "",
                        defaultCharset: String, privateCreator: String) throws(TesseraError) {
        var error = [CChar](repeating: 0, count: 512)
        let done = value.withUnsafeBufferPointer { buffer in
            cdicom_file_replace(handle, prefix, tag.group, tag.element, buffer.baseAddress, buffer.count, binary ? 1 : 0,
                                defaultCharset, privateCreator, &error, error.count)
        }
        guard done != 0 else { throw TesseraError(.badRequest, details: Self.text(error)) }
    }

    /// Sets `tag` to a sequence of `items` empty items, in the dataset or in every item `prefix` designates.
    public func replaceSequence(_ tag: DicomTag, items: Int, in prefix: String = "") throws(TesseraError) {
        var error = [CChar](repeating: 0, count: 512)
        guard cdicom_file_replace_sequence(handle, prefix, tag.group, tag.element, UInt(max(0, items)), &error, error.count) != 0 else {
            throw TesseraError(.badRequest, details: Self.text(error))
        }
    }

    /// Inside every sequence item, at any depth (not at the top level): removes the elements in `removed` and empties
    /// those in `emptied`; with `curvesAndOverlays`, curve data (50xx,xxxx), overlay data (60xx,3000) and overlay
    /// comments (60xx,4000) at every depth.
    public func anonymizeNested(removing removed: Set<DicomTag>, emptying emptied: Set<DicomTag>,
                                curvesAndOverlays: Bool) throws(TesseraError) {
        let (gone, empty) = (Self.codes(removed), Self.codes(emptied))
        guard cdicom_file_anonymize_nested(handle, gone, gone.count, empty, empty.count, curvesAndOverlays ? 1 : 0) != 0 else {
            throw TesseraError(.internalError, details: "Cannot anonymize the sequences")
        }
    }

    /// The elements in `tags` inside sequence items at any depth: the items' path (DCMTK's syntax), tag and value.
    public func nestedValues(of tags: Set<DicomTag>) throws(TesseraError) -> [(prefix: String, tag: DicomTag, value: String)] {
        let codes = Self.codes(tags)
        guard let text = cdicom_file_nested_values(handle, codes, codes.count) else {
            throw TesseraError(.internalError, details: "Cannot read the sequences")
        }
        defer { cdicom_free(text) }
        // Lines of ASCII only (paths, tags, hex values): split by bytes.
        let bytes = Array(String(cString: text).utf8)
        return bytes.split(separator: UInt8(ascii: "\n")).compactMap { line in
            let parts = line.split(separator: UInt8(ascii: "\t"), maxSplits: 2, omittingEmptySubsequences: false)
            let tag = String(decoding: parts.count == 3 ? parts[1] : [], as: UTF8.self)
            guard parts.count == 3, let group = UInt16(tag.prefix(4), radix: 16), let element = UInt16(tag.suffix(4), radix: 16),
                  let value = Self.unhex(parts[2]) else { return nil }
            return (String(decoding: parts[0], as: UTF8.self), DicomTag(group, element), String(decoding: value, as: UTF8.self))
        }
    }

    private static func unhex(_ hex: ArraySlice<UInt8>) -> [UInt8]? {
        guard hex.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            guard let high = UInt8(String(UnicodeScalar(hex[index])), radix: 16),
                  let low = UInt8(String(UnicodeScalar(hex[index + 1])), radix: 16) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func codes(_ tags: Set<DicomTag>) -> [UInt32] {
        tags.map { UInt32($0.group) << 16 | UInt32($0.element) }
    }

    /// The file written in its transfer syntax (meta header updated, or made anew with `freshMetaHeader`; group lengths
    /// recalculated).
    public func encoded(freshMetaHeader: Bool = false) throws(TesseraError) -> [UInt8] {
        var error = [CChar](repeating: 0, count: 512)
        var bytes: UnsafeMutablePointer<UInt8>?
        var length = 0
        guard cdicom_file_save(handle, freshMetaHeader ? 1 : 0, &bytes, &length, &error, error.count) != 0, let bytes else {
            throw TesseraError(.internalError, details: Self.text(error))
        }
        defer { cdicom_free(bytes) }
        return Array(UnsafeBufferPointer(start: bytes, count: length))
    }

    static func text(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// New DICOM UIDs, from DCMTK's site root as Orthanc makes them.
public enum DicomUID {
    /// A new Study, Series or SOP Instance UID (`level` study, series or instance).
    public static func generate(for level: ResourceLevel) -> String {
        var buffer = [CChar](repeating: 0, count: 65)
        let code: Int32 = switch level {
        case .patient, .study: 1
        case .series: 2
        case .instance: 3
        }
        _ = cdicom_generate_uid(code, &buffer)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
