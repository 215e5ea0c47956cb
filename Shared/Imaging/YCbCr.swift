/// YCbCr (YBR_FULL) to RGB, as Orthanc's `ImageProcessing::ConvertJpegYCbCrToRgb` (single precision, truncated
/// toward zero, clamped to 0-255).
enum YCbCr {
    static func convertToRGB(_ image: inout ImageBuffer) {
        guard image.format == .rgb24 else { return }
        image.pixels.withUnsafeMutableBufferPointer { pixels in
            var index = 0
            while index + 2 < pixels.count {
                let y = Float(pixels[index]), cb = Float(pixels[index + 1]) - 128, cr = Float(pixels[index + 2]) - 128
                pixels[index] = clamp(y + 1.402 * cr)
                pixels[index + 1] = clamp(y - 0.344136 * cb - 0.714136 * cr)
                pixels[index + 2] = clamp(y + 1.772 * cb)
                index += 3
            }
        }
    }

    private static func clamp(_ value: Float) -> UInt8 {
        value < 0 ? 0 : value > 255 ? 255 : UInt8(value)
    }
}
