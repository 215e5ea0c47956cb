import Model

/// Orthanc's `ImageProcessing::Convert` between the formats the image routes use: greyscale conversions clamp to the
/// target's range, RGB48 becomes RGB24 by keeping each sample's high byte, greyscale becomes float exactly.
public enum PixelConversion {
    public static func convert(_ image: ImageBuffer, to format: PixelFormat) throws(TesseraError) -> ImageBuffer {
        if image.format == format { return image }
        switch (image.format, format) {
        case (.rgb48, .rgb24):
            var target = ImageBuffer(format: .rgb24, width: image.width, height: image.height)
            for index in target.pixels.indices { target.pixels[index] = image.pixels[2 * index + 1] }
            return target
        case (.grayscale8, .grayscale16), (.grayscale8, .signedGrayscale16), (.grayscale16, .grayscale8),
             (.grayscale16, .signedGrayscale16), (.signedGrayscale16, .grayscale8), (.signedGrayscale16, .grayscale16):
            let (low, high): (Int64, Int64) = switch format {
            case .grayscale8: (0, 255)
            case .grayscale16: (0, 65535)
            default: (-32768, 32767)
            }
            let values = integers(image)
            var target = ImageBuffer(format: format, width: image.width, height: image.height)
            let wide = format != .grayscale8
            for index in values.indices {
                let value = UInt16(truncatingIfNeeded: min(max(values[index], low), high))
                if wide {
                    target.pixels[2 * index] = UInt8(value & 0xFF)
                    target.pixels[2 * index + 1] = UInt8(value >> 8)
                } else {
                    target.pixels[index] = UInt8(value)
                }
            }
            return target
        case (.grayscale8, .float32), (.grayscale16, .float32), (.signedGrayscale16, .float32), (.grayscale32, .float32):
            return floats(integers(image).map { Float($0) }, like: image)
        default:
            throw FrameDecoder.unsupported("converting \(image.format) pixels to \(format)")
        }
    }

    /// The samples of a greyscale integer image (8, 16 or 32-bit) as integers; Grayscale32 values above 2^31 wrap,
    /// so callers needing them use ``unsignedIntegers(_:)``.
    static func integers(_ image: ImageBuffer) -> [Int64] {
        let count = image.width * image.height
        var values = [Int64](repeating: 0, count: count)
        image.pixels.withUnsafeBytes { raw in
            switch image.format {
            case .grayscale8:
                for index in 0..<count { values[index] = Int64(raw[index]) }
            case .grayscale16:
                for index in 0..<count { values[index] = Int64(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * index, as: UInt16.self))) }
            case .signedGrayscale16:
                for index in 0..<count { values[index] = Int64(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * index, as: Int16.self))) }
            case .grayscale32:
                for index in 0..<count { values[index] = Int64(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * index, as: UInt32.self))) }
            default:
                break
            }
        }
        return values
    }

    /// A Float32 image of `values`, of the size of `image`.
    static func floats(_ values: [Float], like image: ImageBuffer) -> ImageBuffer {
        var pixels = [UInt8](repeating: 0, count: values.count * 4)
        pixels.withUnsafeMutableBytes { raw in
            for index in values.indices { raw.storeBytes(of: values[index].bitPattern.littleEndian, toByteOffset: 4 * index, as: UInt32.self) }
        }
        return ImageBuffer(format: .float32, width: image.width, height: image.height, pixels: pixels)
    }
}
