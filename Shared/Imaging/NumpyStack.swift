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
    /// How many frames are expected in all (room is made for them at the first).
    private let expectedFrames: Int

    public init(rescale: Bool, stacked: Bool, expectedFrames: Int = 1) {
        self.rescale = rescale
        self.stacked = stacked
        self.expectedFrames = expectedFrames
    }

    /// A decoded frame as the array holds it (rescaled floats, or the integers): the part of ``append(_:attributes:)``
    /// that can run for several frames at once.
    public static func converted(_ image: ImageBuffer, rescale: Bool, attributes: FrameAttributes) throws(TesseraError) -> ImageBuffer {
        try NumpyFrame.pixels(image, rescale: rescale, attributes: attributes)
    }

    public mutating func append(_ image: ImageBuffer, attributes: FrameAttributes) throws(TesseraError) {
        try append(converted: try Self.converted(image, rescale: rescale, attributes: attributes))
    }

    /// Appends a frame ``converted(_:rescale:attributes:)`` already.
    public mutating func append(converted pixels: ImageBuffer) throws(TesseraError) {
        if let writer {
            guard writer.width == pixels.width, writer.height == pixels.height else {
                throw TesseraError(.incompatibleImageSize, details: "The size of the frames varies across the instance(s)")
            }
            guard writer.format == pixels.format else {
                throw TesseraError(.incompatibleImageFormat, details: "The pixel format of the frames varies across the instance(s)")
            }
        } else {
            writer = NumpyWriter(format: pixels.format, width: pixels.width, height: pixels.height, depth: nil)
            if expectedFrames > 1, expectedFrames * pixels.pixels.count <= Self.maximumBytes {
                writer?.reserve(frames: expectedFrames)
            }
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
