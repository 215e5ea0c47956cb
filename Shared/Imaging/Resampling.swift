/// Orthanc's `ImageProcessing::Resize` (nearest neighbour) and `SmoothGaussian5x5` for 8-bit images (greyscale or
/// RGB24).
enum Resampling {
    static func resize(_ image: ImageBuffer, width: Int, height: Int) -> ImageBuffer {
        var target = ImageBuffer(format: image.format, width: max(0, width), height: max(0, height))
        guard width > 0, height > 0, image.width > 0, image.height > 0 else { return target }
        let channels = image.format.bytesPerPixel
        let scaleX = Float(image.width) / Float(width), scaleY = Float(image.height) / Float(height)
        for y in 0..<height {
            let sourceY = min(max(Int(((Float(y) + 0.5) * scaleY).rounded(.down)), 0), image.height - 1)
            for x in 0..<width {
                let sourceX = min(max(Int(((Float(x) + 0.5) * scaleX).rounded(.down)), 0), image.width - 1)
                let from = (sourceY * image.width + sourceX) * channels, to = (y * width + x) * channels
                for channel in 0..<channels { target.pixels[to + channel] = image.pixels[from + channel] }
            }
        }
        return target
    }

    /// Separable [1 4 6 4 1] kernel on both axes, borders replicated, divided by 256 and truncated.
    static func smoothGaussian5x5(_ image: ImageBuffer) -> ImageBuffer {
        let width = image.width, height = image.height, channels = image.format.bytesPerPixel
        guard width > 0, height > 0 else { return image }
        let kernel: [Int] = [1, 4, 6, 4, 1]
        var horizontal = [Int](repeating: 0, count: width * height * channels)
        for y in 0..<height {
            for x in 0..<width {
                for channel in 0..<channels {
                    var sum = 0
                    for k in 0..<5 {
                        let sx = min(max(x + k - 2, 0), width - 1)
                        sum += kernel[k] * Int(image.pixels[(y * width + sx) * channels + channel])
                    }
                    horizontal[(y * width + x) * channels + channel] = sum
                }
            }
        }
        var target = image
        for y in 0..<height {
            for x in 0..<width {
                for channel in 0..<channels {
                    var sum = 0
                    for k in 0..<5 {
                        let sy = min(max(y + k - 2, 0), height - 1)
                        sum += kernel[k] * horizontal[(sy * width + x) * channels + channel]
                    }
                    target.pixels[(y * width + x) * channels + channel] = UInt8(min(255, sum / 256))
                }
            }
        }
        return target
    }
}
