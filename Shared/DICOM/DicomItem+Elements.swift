import CDICOM
import Model

extension DicomItem {
    /// One element of an item: its tag and value representation.
    public struct Element: Sendable, Hashable {
        public let tag: DicomTag
        /// Two letters ("PN", "SQ", ...).
        public let vr: String
    }

    /// The elements of this item, in tag order (sequence items are not entered).
    public var elements: [Element] {
        let count = cdicom_item_element_count(pointer)
        var elements: [Element] = []
        elements.reserveCapacity(Int(count))
        var index: UInt = 0
        while index < count {
            var info = cdicom_element_info()
            if cdicom_item_element_at(pointer, index, &info) != 0 {
                let vr = withUnsafeBytes(of: info.vr) { String(decoding: $0.prefix(2), as: UTF8.self) }
                elements.append(Element(tag: DicomTag(info.group, info.element), vr: vr))
            }
            index += 1
        }
        return elements
    }
}
