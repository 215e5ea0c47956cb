import CDICOM
import Model

/// A dataset, meta header or sequence item inside a ``DicomFile``. Keeps its file alive.
public struct DicomItem {
    let pointer: OpaquePointer?
    let owner: DicomFile

    /// Whether the element is present in this item (sub-sequences are not searched).
    public func contains(_ tag: DicomTag) -> Bool {
        cdicom_item_contains(pointer, tag.group, tag.element) != 0
    }

    /// The element's value representation ("PN", "SQ", ...), or nil when absent.
    public func valueRepresentation(_ tag: DicomTag) -> String? {
        var vr: (CChar, CChar, CChar) = (0, 0, 0)
        let found = withUnsafeMutablePointer(to: &vr) { tuple in
            tuple.withMemoryRebound(to: CChar.self, capacity: 3) { cdicom_item_vr(pointer, tag.group, tag.element, $0) }
        }
        guard found != 0 else { return nil }
        return String(decoding: [UInt8(bitPattern: vr.0), UInt8(bitPattern: vr.1)], as: UTF8.self)
    }

    /// The whole value as text (multiple values joined with `\`, padding removed); nil when absent or a sequence.
    public func string(_ tag: DicomTag) -> String? {
        var value: UnsafeMutablePointer<CChar>?
        guard cdicom_item_string(pointer, tag.group, tag.element, &value) != 0, let value else { return nil }
        defer { cdicom_free(value) }
        return String(cString: value)
    }

    /// The value as Orthanc shows it (see ``DicomJSONRenderer``): text converted to UTF-8 by `charset`, numbers
    /// formatted and joined with `\`; nil when absent, binary or a sequence.
    public func text(_ tag: DicomTag, charset: DicomCharset) -> String? {
        var value: UnsafeMutablePointer<CChar>?
        var length = 0
        let found = withExtendedLifetime(charset) {
            cdicom_item_text(pointer, tag.group, tag.element, charset.pointer, &value, &length)
        }
        guard found != 0, let value else { return nil }
        defer { cdicom_free(value) }
        return String(decoding: UnsafeRawBufferPointer(start: value, count: length), as: UTF8.self)
    }

    /// The value at `position` as an integer (US, SS, UL, SL, IS).
    public func integer(_ tag: DicomTag, at position: Int = 0) -> Int64? {
        var value: Int64 = 0
        guard position >= 0, cdicom_item_int64(pointer, tag.group, tag.element, UInt(position), &value) != 0 else { return nil }
        return value
    }

    /// The value at `position` as a floating-point number (FL, FD, DS and the integer VRs).
    public func double(_ tag: DicomTag, at position: Int = 0) -> Double? {
        var value: Double = 0
        guard position >= 0, cdicom_item_float64(pointer, tag.group, tag.element, UInt(position), &value) != 0 else { return nil }
        return value
    }

    /// The items of a sequence element; nil when the element is absent or not a sequence.
    public func sequence(_ tag: DicomTag) -> [DicomItem]? {
        let count = cdicom_item_sequence_count(pointer, tag.group, tag.element)
        guard count >= 0 else { return nil }
        return (0..<count).map { index in
            DicomItem(pointer: cdicom_item_sequence_item(pointer, tag.group, tag.element, UInt(index)), owner: owner)
        }
    }
}
