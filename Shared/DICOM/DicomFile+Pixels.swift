import CDICOM
import Foundation
import Model

extension DicomFile {
    /// Why a frame could not be read.
    public enum FrameFailure: Sendable, Equatable {
        /// The instance has no pixel data.
        case noPixelData
        /// The frame index is past the last frame.
        case outOfRange
        /// No decoder for the transfer syntax, or image attributes out of range.
        case unsupported
        /// The compressed stream does not decode.
        case corrupt
        /// No memory to spare for decoding now.
        case busy
    }

    /// Frame `index` (from 0) of the pixel data, uncompressed through DCMTK's codecs (JPEG, JPEG-LS, RLE) or read
    /// as stored. The file should have been loaded with a small `maxReadLength`: only this frame is read from disk.
    public func rawFrame(_ index: Int) -> Result<RawFrame, FrameError> {
        guard index >= 0, index <= Int(UInt32.max) else {
            return .failure(FrameError(failure: .outOfRange, details: "no such frame", attributes: nil))
        }
        var frame = cdicom_frame()
        var error = [CChar](repeating: 0, count: 512)
        let status = cdicom_file_frame(handle, UInt32(index), &frame, &error, error.count)
        defer { cdicom_free(frame.bytes) }
        let photometric = Self.text(frame.photometric)
        var raw = RawFrame(rows: Int(frame.rows), columns: Int(frame.columns), samplesPerPixel: Int(frame.samples_per_pixel),
                           bitsAllocated: Int(frame.bits_allocated), bitsStored: Int(frame.bits_stored),
                           highBit: Int(frame.high_bit), isSigned: frame.pixel_representation == 1,
                           isPlanar: frame.planar_configuration == 1, photometric: photometric,
                           colorModel: Self.text(frame.color_model), frameCount: Int(frame.frame_count),
                           wasCompressed: frame.encapsulated != 0,
                           bytes: frame.bytes.map { Array(UnsafeBufferPointer(start: $0, count: frame.length)) } ?? [])
        let syntax = Self.text(frame.transfer_syntax)
        // (A NumberOfFrames that is not a number leaves frame_count 0: refused as for every syntax.)
        if status == Int32(CDICOM_FRAME_UNSUPPORTED), Self.jpeg2000.contains(syntax), raw.rows > 0, raw.frameCount > 0 {
            return jpeg2000Frame(index, attributes: raw)
        }
        guard status == Int32(CDICOM_FRAME_OK), frame.bytes != nil else {
            let details = String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let failure: FrameFailure = switch status {
            case Int32(CDICOM_FRAME_NO_PIXELS): .noPixelData
            case Int32(CDICOM_FRAME_OUT_OF_RANGE): .outOfRange
            case Int32(CDICOM_FRAME_CORRUPT): .corrupt
            case Int32(CDICOM_FRAME_BUSY): .busy
            default: .unsupported
            }
            return .failure(FrameError(failure: failure, details: details, attributes: raw))
        }
        if photometric == "PALETTE COLOR" { raw.palette = palette() }
        return .success(raw)
    }

    /// A frame that could not be read, and why.
    public struct FrameError: Error, Sendable {
        public let failure: FrameFailure
        public let details: String
        /// The frame's attributes as far as they were read (no bytes): an out-of-range frame of an image the decoder
        /// would refuse anyway is answered as refused, as Orthanc does.
        public let attributes: RawFrame?
    }

    /// JPEG 2000 (lossless only, and lossy): decoded by OpenJPEG, DCMTK having no decoder for it.
    static let jpeg2000: Set<String> = ["1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91"]

    private func jpeg2000Frame(_ index: Int, attributes: RawFrame) -> Result<RawFrame, FrameError> {
        var raw = attributes
        guard index < raw.frameCount else {
            return .failure(FrameError(failure: .outOfRange, details: "no such frame", attributes: raw))
        }
        guard raw.bitsAllocated == 8 || raw.bitsAllocated == 16 else {
            return .failure(FrameError(failure: .unsupported, details: "JPEG 2000 of BitsAllocated \(raw.bitsAllocated)", attributes: raw))
        }
        let stream: [UInt8]
        do {
            stream = try storedFrame(index, frameCount: raw.frameCount)
        } catch {
            return .failure(FrameError(failure: error.code == .serverBusy ? .busy : .corrupt, details: error.description, attributes: raw))
        }
        var image = cdicom_j2k_image()
        var error = [CChar](repeating: 0, count: 512)
        let decoded = stream.withUnsafeBufferPointer { buffer in
            cdicom_j2k_decode(buffer.baseAddress, buffer.count, Int32(raw.bitsAllocated / 8), UInt32(clamping: raw.columns),
                              UInt32(clamping: raw.rows), &image, &error, error.count)
        }
        defer { cdicom_free(image.bytes) }
        guard decoded != 0, let bytes = image.bytes else {
            let details = String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            return .failure(FrameError(failure: details.hasPrefix("too many") ? .busy : .corrupt, details: details, attributes: raw))
        }
        guard Int(image.width) == raw.columns, Int(image.height) == raw.rows, Int(image.components) == raw.samplesPerPixel else {
            return .failure(FrameError(failure: .corrupt, details: "the JPEG 2000 image does not match Rows, Columns and SamplesPerPixel",
                                       attributes: raw))
        }
        raw.bytes = Array(UnsafeBufferPointer(start: bytes, count: image.length))
        // OpenJPEG applies the inverse colour transform (YBR_RCT, YBR_ICT): three components come out as RGB.
        raw.colorModel = image.components == 3 ? "RGB" : raw.photometric
        raw.isPlanar = false
        if raw.photometric.uppercased() == "PALETTE COLOR" { raw.palette = palette() }
        return .success(raw)
    }

    private func palette() -> RawFrame.Palette? {
        let dataset = self.dataset
        var descriptors: [(count: Int, first: Int, bits: Int)] = []
        var tables: [[UInt8]] = []
        for channel in 0..<3 {
            let descriptor = DicomTag(0x0028, UInt16(0x1101 + channel))
            guard let count = dataset.integer(descriptor, at: 0), let first = dataset.integer(descriptor, at: 1),
                  let bits = dataset.integer(descriptor, at: 2),
                  let table = dataset.rawValue(DicomTag(0x0028, UInt16(0x1201 + channel))) else { return nil }
            // The descriptor's first value is US (or SS): 0 means 65536 entries.
            descriptors.append((count: count == 0 ? 65536 : Int(UInt16(truncatingIfNeeded: count)),
                                first: Int(first), bits: Int(bits)))
            tables.append(table)
        }
        return RawFrame.Palette(descriptors: descriptors, tables: tables)
    }

    private static func text<T>(_ tuple: T) -> String {
        withUnsafeBytes(of: tuple) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self).trimmingCharacters(in: .whitespaces)
        }
    }
}

extension DicomItem {
    /// The element's value as stored (binary values little-endian); nil when absent.
    public func rawValue(_ tag: DicomTag) -> [UInt8]? {
        guard let index = elements.firstIndex(where: { $0.tag == tag }) else { return nil }
        var bytes: UnsafeMutablePointer<UInt8>?
        var length = 0
        guard cdicom_item_element_raw(pointer, UInt(index), -1, &bytes, &length) != 0, let bytes else { return nil }
        defer { cdicom_free(bytes) }
        return Array(UnsafeBufferPointer(start: bytes, count: length))
    }
}
