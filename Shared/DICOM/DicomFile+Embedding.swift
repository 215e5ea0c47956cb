import CDICOM
import Foundation
import Model

/// What Orthanc's `ParsedDicomFile` does for `/tools/create-dicom`: an empty file to fill, and content embedded from
/// a data URI (a PNG or JPEG image as pixel data, a PDF as an Encapsulated PDF).
extension DicomFile {
    /// An empty dataset in Explicit VR Little Endian (its meta header is made when it is written).
    public static func empty() throws(TesseraError) -> DicomFile {
        var bytes = [UInt8](repeating: 0, count: 128) + Array("DICM".utf8)
        let syntax = Array("1.2.840.10008.1.2.1".utf8) + [0]
        bytes += [0x02, 0x00, 0x10, 0x00] + Array("UI".utf8) + [UInt8(syntax.count), 0] + syntax
        return try DicomFile(bytes: bytes)
    }

    /// Largest image embedded, in pixels (a small PNG can describe a huge image).
    public static let maximumEmbeddedPixels: UInt64 = 64 << 20

    /// Orthanc's `EmbedContent`: `data:<mime>;base64,<data>` with an `image/png` or `image/jpeg` image (pixel data) or
    /// an `application/pdf` document. Throws `badFileFormat` for text that is not a data URI or damaged content,
    /// `unsupportedImage` (Orthanc's "Not implemented yet", HTTP 500) for another MIME type or an image layout Orthanc
    /// does not embed.
    public func embed(dataURI text: String, defaultCharset: String) throws(TesseraError) {
        guard let (mime, content) = Self.decodeDataURI(text) else {
            throw TesseraError(.badFileFormat, details: "Not a data URI")
        }
        switch mime {
        case "image/png": try embedImage(content, png: true, defaultCharset: defaultCharset)
        case "image/jpeg": try embedImage(content, png: false, defaultCharset: defaultCharset)
        case "application/pdf": try embedPDF(content, defaultCharset: defaultCharset)
        default:
            throw TesseraError(.unsupportedImage, details: "Unsupported MIME type for the content of a new DICOM file: \(mime)")
        }
    }

    /// The MIME type and bytes of a `data:<mime>;base64,<data>` URI (Orthanc's `DecodeDataUriScheme`); nil otherwise.
    public static func decodeDataURI(_ text: String) -> (mime: String, content: [UInt8])? {
        guard text.hasPrefix("data:"), let comma = text.firstIndex(of: ",") else { return nil }
        let header = text[text.index(text.startIndex, offsetBy: 5)..<comma]
        guard header.hasSuffix(";base64") else { return nil }
        let mime = String(header.dropLast(";base64".count).drop { $0 == "/" })
        let payload = text[text.index(after: comma)...]
        guard !mime.isEmpty, !mime.contains(";"), payload.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+/=".contains($0)) }),
              let data = Data(base64Encoded: String(payload)) else { return nil }
        return (mime, Array(data))
    }

    /// Orthanc's `EmbedImage`: the decoded pixels as native pixel data, with the image pixel module's tags (an RGBA
    /// image loses its alpha channel; greyscale keeps a PhotometricInterpretation already set).
    private func embedImage(_ content: [UInt8], png: Bool, defaultCharset: String) throws(TesseraError) {
        var width: UInt32 = 0, height: UInt32 = 0
        var layout: Int32 = 0
        var pixels: UnsafeMutablePointer<UInt8>?
        var length = 0
        var error = [CChar](repeating: 0, count: 512)
        let status = content.withUnsafeBufferPointer { buffer in
            png ? cdicom_png_decode(buffer.baseAddress, buffer.count, Self.maximumEmbeddedPixels, &width, &height, &layout,
                                    &pixels, &length, &error, error.count)
                : cdicom_jpeg_decode(buffer.baseAddress, buffer.count, Self.maximumEmbeddedPixels, &width, &height, &layout,
                                     &pixels, &length, &error, error.count)
        }
        defer { cdicom_free(pixels) }
        switch status {
        case Int32(CDICOM_DECODE_OK.rawValue): break
        case Int32(CDICOM_DECODE_UNSUPPORTED.rawValue): throw TesseraError(.unsupportedImage, details: Self.text(error))
        case Int32(CDICOM_DECODE_TOO_LARGE.rawValue): throw TesseraError(.requestTooLarge, details: Self.text(error))
        default: throw TesseraError(.badFileFormat, details: Self.text(error))
        }
        var bytes = pixels.map { Array(UnsafeBufferPointer(start: $0, count: length)) } ?? []
        var values: [(DicomTag, String)] = [(DicomTag(0x0028, 0x0011), String(width)), (DicomTag(0x0028, 0x0010), String(height)),
                                            (DicomTag(0x0028, 0x0002), "1"), (DicomTag(0x0028, 0x0103), "0")]
        let photometric = DicomTag(0x0028, 0x0004)
        switch Int(layout) {
        case Int(CDICOM_PIXELS_GRAYSCALE8.rawValue), Int(CDICOM_PIXELS_GRAYSCALE16.rawValue):
            let sixteen = Int(layout) == Int(CDICOM_PIXELS_GRAYSCALE16.rawValue)
            if !dataset.contains(photometric) { values.append((photometric, "MONOCHROME2")) }
            values += [(DicomTag(0x0028, 0x0100), sixteen ? "16" : "8"), (DicomTag(0x0028, 0x0101), sixteen ? "16" : "8"),
                       (DicomTag(0x0028, 0x0102), sixteen ? "15" : "7")]
        default:
            if Int(layout) == Int(CDICOM_PIXELS_RGBA32.rawValue) {
                // The alpha channel goes, as Orthanc drops it.
                var rgb = [UInt8]()
                rgb.reserveCapacity(bytes.count / 4 * 3)
                for start in stride(from: 0, to: bytes.count, by: 4) { rgb += bytes[start..<start + 3] }
                bytes = rgb
            }
            values += [(photometric, "RGB"), (DicomTag(0x0028, 0x0002), "3"), (DicomTag(0x0028, 0x0100), "8"),
                       (DicomTag(0x0028, 0x0101), "8"), (DicomTag(0x0028, 0x0102), "7"), (DicomTag(0x0028, 0x0006), "0")]
        }
        try remove(.pixelData)
        for (tag, value) in values {
            try replace(tag, with: Array(value.utf8), defaultCharset: defaultCharset, privateCreator: "")
        }
        try putPixelData(bytes)
    }

    /// Orthanc's `EmbedPdf`: SOP Class Encapsulated PDF, ConversionType WSD, the document (even length, padded with NUL).
    private func embedPDF(_ content: [UInt8], defaultCharset: String) throws(TesseraError) {
        guard content.starts(with: Array("%PDF-".utf8)) else { throw TesseraError(.badFileFormat, details: "Not a PDF file") }
        let values: [(DicomTag, String)] = [(.sopClassUID, "1.2.840.10008.5.1.4.1.1.104.1"), (DicomTag(0x0008, 0x0064), "WSD"),
                                            (DicomTag(0x0042, 0x0012), "application/pdf")]
        for (tag, value) in values {
            try replace(tag, with: Array(value.utf8), defaultCharset: defaultCharset, privateCreator: "")
        }
        if !dataset.contains(DicomTag(0x0008, 0x0060)) {
            try replace(DicomTag(0x0008, 0x0060), with: Array("OT".utf8), defaultCharset: defaultCharset, privateCreator: "")
        }
        try replace(DicomTag(0x0042, 0x0011), with: content.count % 2 == 0 ? content : content + [0], binary: true,
                    defaultCharset: defaultCharset, privateCreator: "")
    }

    /// Native pixel data, as Orthanc inserts it (an OW element holding the bytes; an odd length is padded on write).
    private func putPixelData(_ bytes: [UInt8]) throws(TesseraError) {
        var error = [CChar](repeating: 0, count: 512)
        let done = bytes.withUnsafeBufferPointer { cdicom_file_put_pixel_data(handle, $0.baseAddress, $0.count, &error, error.count) }
        guard done != 0 else { throw TesseraError(.internalError, details: Self.text(error)) }
    }
}
