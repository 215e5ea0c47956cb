import Model

/// `/rendered`: a frame windowed to 8 bits and resized as Orthanc 1.9+ renders it.
///
/// Greyscale: `floor(255 × slope / ww × (x + (intercept - wc + ww / 2) / slope))` in single precision, clamped to
/// 0-255 (a window narrower than 1 counts as 1, a slope closer to 0 than 0.0001 as 0.0001); then resized, then
/// MONOCHROME1 inverted. Colour images are not windowed. Resizing is nearest-neighbour, after a 5×5 Gaussian blur
/// when `smooth` is asked and the image shrinks.
public enum ImageRenderer {
    public static func render(_ image: ImageBuffer, attributes: FrameAttributes,
                              parameters: RenderParameters) throws(TesseraError) -> ImageBuffer {
        var targetWidth = image.width, targetHeight = image.height
        if image.width != 0, image.height != 0, parameters.width != 0 || parameters.height != 0 {
            var ratio: Float = 1
            if parameters.width != 0, parameters.height != 0 {
                ratio = min(Float(parameters.width) / Float(image.width), Float(parameters.height) / Float(image.height))
            } else if parameters.width != 0 {
                ratio = Float(parameters.width) / Float(image.width)
            } else {
                ratio = Float(parameters.height) / Float(image.height)
            }
            let width = (ratio * Float(image.width)).rounded(.toNearestOrAwayFromZero)
            let height = (ratio * Float(image.height)).rounded(.toNearestOrAwayFromZero)
            guard width.isFinite, height.isFinite, width <= Float(RenderParameters.maximumSide),
                  height <= Float(RenderParameters.maximumSide) else {
                throw TesseraError(.parameterOutOfRange, details: "a rendered image is at most \(RenderParameters.maximumSide) pixels wide and high")
            }
            targetWidth = Int(width)
            targetHeight = Int(height)
        }
        let resized = targetWidth != image.width || targetHeight != image.height
        let shrinks = targetWidth < image.width || targetHeight < image.height
        if image.format.isColor {
            guard resized else { return try ImageExtractionMode.preview.apply(to: image, invert: false) }
            guard image.format == .rgb24 else { throw FrameDecoder.unsupported("resizing \(image.format) pixels") }
            let source = parameters.smooth && shrinks ? Resampling.smoothGaussian5x5(image) : image
            return Resampling.resize(source, width: targetWidth, height: targetHeight)
        }
        guard [.grayscale8, .grayscale16, .signedGrayscale16, .grayscale32].contains(image.format) else {
            throw FrameDecoder.unsupported("rendering \(image.format) pixels")
        }
        var width = parameters.windowWidth ?? attributes.windowWidth
        let center = parameters.windowCenter ?? attributes.windowCenter
        var slope = attributes.rescaleSlope
        if width <= 1 { width = 1 }
        if abs(slope) <= 0.0001 { slope = 0.0001 }
        let scaling = 255.0 * slope / width
        let offset = (attributes.rescaleIntercept - center + width / 2.0) / slope
        let a = Float(scaling), b = Float(offset) * a
        let values = PixelConversion.integers(image)
        var windowed = ImageBuffer(format: .grayscale8, width: image.width, height: image.height)
        for index in values.indices {
            let value = a * Float(values[index]) + b
            windowed.pixels[index] = value.isNaN ? 0 : value >= 255 ? 255 : value <= 0 ? 0 : UInt8(value.rounded(.down))
        }
        if resized {
            let source = parameters.smooth && shrinks ? Resampling.smoothGaussian5x5(windowed) : windowed
            windowed = Resampling.resize(source, width: targetWidth, height: targetHeight)
        }
        if attributes.isInverted {
            for index in windowed.pixels.indices { windowed.pixels[index] = 255 - windowed.pixels[index] }
        }
        return windowed
    }
}
