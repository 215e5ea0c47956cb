import DICOM
import Foundation
import Model

/// The image routes' reading of a stored instance: a decoded frame with its attributes, a frame as stored, the
/// frame count, an encapsulated PDF. Blocking work (disk and decoding): run it off the cooperative pool.
public enum InstanceImage {
    /// Frame `frame` of the instance file at `path`, decoded. Throws `parameterOutOfRange` past the last frame of
    /// native pixel data and `badFileFormat` past the last frame of compressed data (Orthanc 1.10 answers them
    /// differently), `unsupportedImage` for no pixel data or an image the decoder does not handle, `badFileFormat`
    /// for a corrupted one, `serverBusy` when memory is short.
    public static func decode(path: String, frame: Int) throws(TesseraError) -> (image: ImageBuffer, attributes: FrameAttributes) {
        let file = try DicomFile(path: path, maxReadLength: 4096)
        return try decode(file, frame: frame)
    }

    /// The same, from a parsed file.
    public static func decode(_ file: DicomFile, frame: Int) throws(TesseraError) -> (image: ImageBuffer, attributes: FrameAttributes) {
        switch file.rawFrame(frame) {
        case .success(let raw):
            return (try FrameDecoder.decode(raw), FrameAttributes(file, frame: frame))
        case .failure(let error):
            // As Orthanc: an image the decoder refuses is refused whatever the frame asked and whatever its bytes.
            if error.failure == .outOfRange || error.failure == .corrupt, let attributes = error.attributes {
                _ = try FrameDecoder.pixelFormat(of: attributes)
            }
            switch error.failure {
            case .outOfRange:
                throw TesseraError(error.attributes?.wasCompressed == true ? .badFileFormat : .parameterOutOfRange,
                                   details: "frame \(frame) out of range")
            case .noPixelData, .unsupported: throw TesseraError(.unsupportedImage, details: error.details)
            case .corrupt: throw TesseraError(.badFileFormat, details: error.details)
            case .busy: throw TesseraError(.serverBusy, details: error.details)
            }
        }
    }

    /// The first `count` frames of the instance (every frame by NumberOfFrames when nil), decoded and passed to
    /// `body` in order (the NumPy array of an instance or a series).
    public static func forEachFrame(path: String, count: Int? = nil,
                                    _ body: (ImageBuffer, FrameAttributes) throws(TesseraError) -> Void) throws(TesseraError) {
        let file = try DicomFile(path: path, maxReadLength: 4096)
        let total: Int
        if let count { total = count } else { total = try declaredFrameCount(file) }
        for frame in 0..<total {
            let (image, attributes) = try decode(file, frame: frame)
            try body(image, attributes)
        }
    }

    /// NumberOfFrames as Orthanc's `GetFramesCount` reads it: 1 when absent, `badFileFormat` when not a positive
    /// integer.
    public static func declaredFrameCount(_ file: DicomFile) throws(TesseraError) -> Int {
        guard let text = file.dataset.string(DicomTag(0x0028, 0x0008)) else { return 1 }
        guard let count = Int(text.trimmingCharacters(in: .whitespaces)), count >= 0, count <= Int(Int32.max) else {
            throw TesseraError(.badFileFormat, details: "NumberOfFrames is not a number: \(text)")
        }
        guard count > 0 else { throw TesseraError(.badFileFormat, details: "Empty DICOM instance") }
        return count
    }

    /// Frame `frame` as stored, with its media type: `image/jpeg` for JPEG baseline, `image/jp2` for JPEG 2000,
    /// `application/octet-stream` otherwise.
    public static func storedFrame(path: String, frame: Int) throws(TesseraError) -> (bytes: [UInt8], contentType: String) {
        let file = try DicomFile(path: path, maxReadLength: 4096)
        // As Orthanc: NumberOfFrames first (not a number: bad file), then the image attributes (missing: the
        // decoder's refusal), then the frame.
        let count = try declaredFrameCount(file)
        let dataset = file.dataset
        guard dataset.integer(DicomTag(0x0028, 0x0010)) != nil, dataset.integer(DicomTag(0x0028, 0x0011)) != nil,
              dataset.integer(DicomTag(0x0028, 0x0100)) != nil, dataset.contains(DicomTag(0x7FE0, 0x0010)) else {
            throw TesseraError(.unsupportedImage, details: "the instance is not an image")
        }
        let bytes = try file.storedFrame(frame, frameCount: count)
        let syntax = file.metaHeader.string(DicomTag(0x0002, 0x0010))?.trimmingCharacters(in: .whitespaces) ?? ""
        let type = switch syntax {
        case "1.2.840.10008.1.2.4.50": "image/jpeg"
        case "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91": "image/jp2"
        default: "application/octet-stream"
        }
        return (bytes, type)
    }

    /// The document of an Encapsulated PDF instance (its padding byte removed), nil for any other instance.
    public static func pdf(path: String) throws(TesseraError) -> [UInt8]? {
        let file = try DicomFile(path: path, maxReadLength: 4096)
        let dataset = file.dataset
        guard dataset.string(DicomTag(0x0008, 0x0016))?.trimmingCharacters(in: .whitespaces) == "1.2.840.10008.5.1.4.1.1.104.1",
              dataset.string(DicomTag(0x0042, 0x0012))?.trimmingCharacters(in: .whitespaces) == "application/pdf",
              var document = dataset.rawValue(DicomTag(0x0042, 0x0011)) else { return nil }
        if let last = document.last, last != 10, last != 13 { document.removeLast() }
        return document
    }
}
