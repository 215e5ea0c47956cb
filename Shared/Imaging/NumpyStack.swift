import Model

/// The frames of a `/numpy` answer, appended in order (Orthanc's `NumpyVisitor`): the first fixes the size and the
/// pixel format, a later frame that differs is refused (`incompatibleImageSize`, `incompatibleImageFormat`).
public struct NumpyStack: Sendable {
    /// The largest array answered (the answer is built in memory, copied to its encoding and to the response).
    public static let maximumBytes = 1 << 30

    private let rescale: Bool
    /// Four dimensions (depth first) for an instance or a series; three for one frame.
    private let stacked: Bool
    private var writer: NumpyWriter?
    private var depth = 0

    public init(rescale: Bool, stacked: Bool) {
        self.rescale = rescale
        self.stacked = stacked
    }

    public mutating func append(_ image: ImageBuffer, attributes: FrameAttributes) throws(TesseraError) {
        let pixels = try NumpyFrame.pixels(image, rescale: rescale, attributes: attributes)
        if let writer {
            guard writer.width == pixels.width, writer.height == pixels.height else {
                throw TesseraError(.incompatibleImageSize, details: "The size of the frames varies across the instance(s)")
            }
            guard writer.format == pixels.format else {
                throw TesseraError(.incompatibleImageFormat, details: "The pixel format of the frames varies across the instance(s)")
            }
        } else {
            writer = NumpyWriter(format: pixels.format, width: pixels.width, height: pixels.height, depth: nil)
        }
        guard (writer?.bodyCount ?? 0) + pixels.pixels.count <= Self.maximumBytes else {
            throw TesseraError(.notEnoughMemory, details: "a NumPy answer is at most \(Self.maximumBytes >> 20) MiB")
        }
        writer?.append(pixels)
        depth += 1
    }

    /// The `.npy` file, or the `.npz` archive with `compress`.
    public func output(compress: Bool) throws(TesseraError) -> [UInt8] {
        guard var writer else { throw TesseraError(.badSequenceOfCalls, details: "no frame to write") }
        writer.depth = stacked ? depth : nil
        return compress ? try writer.npz() : writer.npy()
    }
}
