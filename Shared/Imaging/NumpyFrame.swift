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
        // One pass from the samples to the float bytes (no intermediate arrays: a series holds hundreds of frames).
        let count = image.width * image.height
        var pixels = [UInt8](repeating: 0, count: count * 4)
        image.pixels.withUnsafeBytes { source in
            pixels.withUnsafeMutableBytes { target in
                func store(_ index: Int, _ sample: Float) {
                    let value = identity ? sample : (slope * sample + intercept).rounded(.down)
                    target.storeBytes(of: value.bitPattern.littleEndian, toByteOffset: 4 * index, as: UInt32.self)
                }
                switch image.format {
                case .grayscale8:
                    for index in 0..<count { store(index, Float(source[index])) }
                case .grayscale16:
                    for index in 0..<count {
                        store(index, Float(UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * index, as: UInt16.self))))
                    }
                case .signedGrayscale16:
                    for index in 0..<count {
                        store(index, Float(Int16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * index, as: Int16.self))))
                    }
                case .grayscale32:
                    for index in 0..<count {
                        store(index, Float(UInt32(littleEndian: source.loadUnaligned(fromByteOffset: 4 * index, as: UInt32.self))))
                    }
                default:
                    break
                }
            }
        }
        return ImageBuffer(format: .float32, width: image.width, height: image.height, pixels: pixels)
    }
}
