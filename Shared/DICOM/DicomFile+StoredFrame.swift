import CDICOM
import Model

extension DicomFile {
    /// Frame `index` as stored (Orthanc's `/frames/{n}/raw`): for compressed pixel data the frame's fragments joined
    /// (one fragment per frame when there are as many as frames, else grouped by the basic offset table; one frame
    /// spanning every fragment when the table is empty), for native data the frame's bytes. Throws
    /// `parameterOutOfRange` past the last frame, `badFileFormat` when the fragments and the offset table disagree or
    /// the pixel data is missing or short.
    public func storedFrame(_ index: Int, frameCount: Int) throws(TesseraError) -> [UInt8] {
        guard index >= 0, index < frameCount else { throw TesseraError(.parameterOutOfRange, details: "no frame \(index)") }
        let dataset = self.dataset
        guard let position = dataset.elements.firstIndex(where: { $0.tag == DicomTag(0x7FE0, 0x0010) }) else {
            throw TesseraError(.badFileFormat, details: "the instance has no pixel data")
        }
        let fragments = cdicom_item_element_fragment_count(dataset.pointer, UInt(position))
        guard fragments >= 0 else {
            switch rawFrame(index) {
            case .success(let frame): return frame.bytes
            case .failure(let error): throw TesseraError(error.failure == .busy ? .serverBusy : .badFileFormat, details: error.details)
            }
        }
        func fragment(_ number: Int) throws(TesseraError) -> [UInt8] {
            var bytes: UnsafeMutablePointer<UInt8>?
            var length = 0
            guard cdicom_item_element_raw(dataset.pointer, UInt(position), number, &bytes, &length) != 0 else {
                throw TesseraError(.badFileFormat, details: "pixel data fragment \(number) unreadable")
            }
            defer { cdicom_free(bytes) }
            return bytes.map { Array(UnsafeBufferPointer(start: $0, count: length)) } ?? []
        }
        let count = Int(fragments) - 1
        guard count >= 1 else { throw TesseraError(.badFileFormat, details: "compressed pixel data without fragments") }
        if count == frameCount { return try fragment(index + 1) }
        let table = try fragment(0)
        if table.isEmpty {
            guard frameCount == 1 else {
                throw TesseraError(.badFileFormat, details: "\(count) fragments for \(frameCount) frames and no offset table")
            }
            var joined: [UInt8] = []
            for number in 1...count { joined += try fragment(number) }
            return joined
        }
        guard frameCount <= Int(Int32.max), table.count == 4 * frameCount else {
            throw TesseraError(.badFileFormat, details: "the offset table does not have one entry per frame")
        }
        let offsets = (0..<frameCount).map { entry in
            (0..<4).reduce(UInt64(0)) { $0 | UInt64(table[4 * entry + $1]) << UInt64(8 * $1) }
        }
        guard offsets.first == 0 else { throw TesseraError(.badFileFormat, details: "the offset table does not start at 0") }
        // Walk the fragments, their offsets counted from the first fragment's item header (8 bytes each).
        var frame = 0, offset: UInt64 = 0, joined: [UInt8] = []
        for number in 1...count {
            if frame + 1 < frameCount, offset == offsets[frame + 1] { frame += 1 }
            else if frame + 1 < frameCount, offset > offsets[frame + 1] {
                throw TesseraError(.badFileFormat, details: "the offset table does not match the fragments")
            }
            let bytes = try fragment(number)
            if frame == index { joined += bytes } else if frame > index { break }
            offset += UInt64(bytes.count) + 8
        }
        guard frame >= index else { throw TesseraError(.badFileFormat, details: "the offset table does not match the fragments") }
        return joined
    }
}
