import Model

/// The pixels `/numpy` writes for one frame (Orthanc's `NumpyVisitor::WriteFrame`): with `rescale`, greyscale as
/// Float32 `floor(slope × x + intercept)` in single precision, as Orthanc 1.10 computes it (values kept when the
/// rescale is the identity); RGB24 as is;
/// without `rescale`, the decoded integers. RGB48 and, without rescale, Grayscale32 are refused as Orthanc does.
public enum NumpyFrame {
    public static func pixels(_ image: ImageBuffer, rescale: Bool, attributes: FrameAttributes) throws(TesseraError) -> ImageBuffer {
        if image.format == .rgb48 || (!rescale && image.format == .grayscale32) {
            throw TesseraError(.unsupportedImage, details: "NumPy arrays of \(image.format) pixels")
        }
        guard rescale, image.format != .rgb24 else { return image }
        let intercept = Float(attributes.rescaleIntercept), slope = Float(attributes.rescaleSlope)
        var values = PixelConversion.integers(image).map { Float($0) }
        let epsilon = 10 * Float.ulpOfOne
        if !(abs(intercept) <= epsilon && abs(slope - 1) <= epsilon) {
            for index in values.indices { values[index] = (slope * values[index] + intercept).rounded(.down) }
        }
        return PixelConversion.floats(values, like: image)
    }
}
