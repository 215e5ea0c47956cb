import Model

/// What `/preview`, `/image-uint8`, `/image-uint16` and `/image-int16` make of a decoded frame (Orthanc's
/// `DicomImageDecoder::ApplyExtractionMode`).
public enum ImageExtractionMode: Sendable {
    /// 8-bit, greyscale stretched from its minimum to its maximum (MONOCHROME1 inverted); colour as RGB24.
    case preview
    /// Greyscale 8-bit, values clamped to 0-255.
    case uint8
    /// Greyscale 16-bit, values clamped to 0-65535.
    case uint16
    /// Greyscale signed 16-bit, values clamped to -32768-32767.
    case int16

    /// The image this mode answers. Throws `unsupportedImage` for colour images in the greyscale modes and for
    /// 32-bit images (as Orthanc).
    public func apply(to image: ImageBuffer, invert: Bool) throws(TesseraError) -> ImageBuffer {
        var result: ImageBuffer
        switch self {
        case .preview: result = try Self.preview(image)
        case .uint8: result = try Self.truncated(image, to: .grayscale8)
        case .uint16: result = try Self.truncated(image, to: .grayscale16)
        case .int16: result = try Self.truncated(image, to: .signedGrayscale16)
        }
        if invert {
            guard result.format == .grayscale8 else { throw FrameDecoder.unsupported("inverting \(result.format) pixels") }
            for index in result.pixels.indices { result.pixels[index] = 255 - result.pixels[index] }
        }
        return result
    }

    private static func truncated(_ image: ImageBuffer, to format: PixelFormat) throws(TesseraError) -> ImageBuffer {
        guard !image.format.isColor else { throw FrameDecoder.unsupported("a colour image as greyscale") }
        return try PixelConversion.convert(image, to: format)
    }

    /// Orthanc's `PreviewDecodedImage`: `round(255 / (max - min) * (x - min))` in single precision, rounded half
    /// away from zero.
    private static func preview(_ image: ImageBuffer) throws(TesseraError) -> ImageBuffer {
        switch image.format {
        case .rgb24:
            return image
        case .rgb48:
            return try PixelConversion.convert(image, to: .rgb24)
        case .grayscale8, .grayscale16, .signedGrayscale16:
            let values = PixelConversion.integers(image)
            var target = ImageBuffer(format: .grayscale8, width: image.width, height: image.height)
            guard let low = values.min(), let high = values.max(), low != high else { return target }
            let scale = Float(255) / Float(high - low)
            let offset = Float(-low) * scale
            for index in values.indices {
                let value = scale * Float(values[index]) + offset
                target.pixels[index] = value >= 255 ? 255 : value <= 0 ? 0 : UInt8(value.rounded(.toNearestOrAwayFromZero))
            }
            return target
        default:
            throw FrameDecoder.unsupported("a preview of \(image.format) pixels")
        }
    }
}
