import CDICOM
import Foundation
import Model

/// The formats an image route answers in, chosen from the Accept header as Orthanc's `HttpContentNegociation` does:
/// an exact media type beats `image/*`, which beats `*/*`, then the higher quality; on a tie the first range and
/// then PNG, JPEG, PAM in that order. No Accept header means `*/*`.
public enum ImageEncoding: String, Sendable, CaseIterable {
    case png = "image/png"
    case jpeg = "image/jpeg"
    case pam = "image/x-portable-arbitrarymap"

    /// The negotiated encoding; nil when the header accepts none of them. Throws `badRequest` for a malformed
    /// quality value.
    public static func negotiate(accept: String?) throws(TesseraError) -> ImageEncoding? {
        guard let accept, !accept.trimmingCharacters(in: .whitespaces).isEmpty else { return .png }
        var best: (encoding: ImageEncoding, level: Int, quality: Float)?
        for range in accept.split(separator: ",") {
            let parts = range.split(separator: ";")
            guard let first = parts.first else { continue }
            let type = first.trimmingCharacters(in: .whitespaces)
            var quality: Float = 1
            for parameter in parts.dropFirst() {
                let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                if pair.count == 2, pair[0] == "q" {
                    guard let value = Float(pair[1]), value >= 0, value <= 1 else {
                        throw TesseraError(.badRequest, details: "bad quality in the Accept header: \(pair[1])")
                    }
                    quality = value
                }
            }
            for encoding in allCases {
                let level: Int
                if type == "*/*" { level = 0 } else if type == "image/*" { level = 1 } else if type == encoding.rawValue { level = 2 } else { continue }
                if let current = best, (level, quality) <= (current.level, current.quality) { continue }
                best = (encoding, level, quality)
            }
        }
        return best?.encoding
    }

    /// The image in this encoding; JPEG takes 8-bit images only (`quality` 1-100).
    public func encode(_ image: ImageBuffer, quality: Int = 90) throws(TesseraError) -> [UInt8] {
        switch self {
        case .png: return try PNGEncoder.encode(image)
        case .pam: return try PAMEncoder.encode(image)
        case .jpeg:
            guard image.format == .grayscale8 || image.format == .rgb24 else {
                throw TesseraError(.parameterOutOfRange, details: "JPEG holds 8-bit greyscale or RGB images only")
            }
            var bytes: UnsafeMutablePointer<UInt8>?
            var length = 0
            var error = [CChar](repeating: 0, count: 256)
            let done = image.pixels.withUnsafeBufferPointer { pixels in
                cdicom_jpeg_encode(pixels.baseAddress, UInt32(image.width), UInt32(image.height), Int32(image.format.channels),
                                   Int32(quality), &bytes, &length, &error, error.count)
            }
            guard done != 0, let bytes else {
                let details = String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                throw TesseraError(.internalError, details: "JPEG encoding failed: \(details)")
            }
            defer { cdicom_free(bytes) }
            return Array(UnsafeBufferPointer(start: bytes, count: length))
        }
    }
}
