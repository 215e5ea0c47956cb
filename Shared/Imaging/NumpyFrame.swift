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
        let epsilon = 10 * Float.ulpOfOne
        let identity = abs(intercept) <= epsilon && abs(slope - 1) <= epsilon
        // One pass from the samples to the float bytes, in typed loops the compiler vectorises (a series holds hundreds
        // of frames). Samples and floats are in the machine's byte order: little-endian, as every platform built for.
        let count = image.width * image.height
        var pixels = [UInt8](repeating: 0, count: count * 4)
        pixels.withUnsafeMutableBytes { output in
            output.withMemoryRebound(to: Float.self) { floats in
                func fill<Sample: BinaryInteger>(_ type: Sample.Type) {
                    image.pixels.withUnsafeBytes { raw in
                        raw.withMemoryRebound(to: Sample.self) { samples in
                            if identity {
                                for index in 0..<count { floats[index] = Float(samples[index]) }
                            } else {
                                for index in 0..<count { floats[index] = (slope * Float(samples[index]) + intercept).rounded(.down) }
                            }
                        }
                    }
                }
                switch image.format {
                case .grayscale8: fill(UInt8.self)
                case .grayscale16: fill(UInt16.self)
                case .signedGrayscale16: fill(Int16.self)
                case .grayscale32: fill(UInt32.self)
                default: break
                }
            }
        }
        return ImageBuffer(format: .float32, width: image.width, height: image.height, pixels: pixels)
    }
}
