import Model

/// `/matlab`: a frame as an Octave/Matlab expression, as Orthanc writes it — `double([ 1 2 ; 3 4 ])` for greyscale,
/// `double(permute(reshape([ r g b ... ], [ 3 H W ]), [ 3 2 1 ]))` for RGB24.
public enum MatlabWriter {
    /// The largest frame written as text (up to 11 characters a sample).
    public static let maximumSamples = 16 << 20

    public static func text(_ image: ImageBuffer) throws(TesseraError) -> String {
        guard image.width * image.height * image.format.channels <= maximumSamples else {
            throw TesseraError(.notEnoughMemory, details: "Matlab text is written for frames of at most \(maximumSamples) samples")
        }
        var text = ""
        switch image.format {
        case .grayscale8, .grayscale16, .signedGrayscale16, .grayscale32:
            let values = PixelConversion.integers(image)
            text = "double([ "
            for y in 0..<image.height {
                if y > 0 { text += "; " }
                for x in 0..<image.width { text += "\(values[y * image.width + x]) " }
            }
            text += "])"
        case .rgb24:
            text = "double(permute(reshape([ "
            for byte in image.pixels { text += "\(byte) " }
            text += "], [ 3 \(image.height) \(image.width) ]), [ 3 2 1 ]))"
        default:
            throw TesseraError(.unsupportedImage, details: "Matlab text of \(image.format) pixels")
        }
        return text
    }
}
