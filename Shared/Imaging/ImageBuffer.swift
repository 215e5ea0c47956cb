/// A decoded image or frame: `height` rows of `width` pixels in `format`, tightly packed, samples little-endian.
public struct ImageBuffer: Sendable, Equatable {
    public var format: PixelFormat
    public var width: Int
    public var height: Int
    /// `width × height × format.bytesPerPixel` bytes.
    public var pixels: [UInt8]

    public init(format: PixelFormat, width: Int, height: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * format.bytesPerPixel, "pixel buffer of the wrong size")
        self.format = format
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// A black image.
    public init(format: PixelFormat, width: Int, height: Int) {
        self.init(format: format, width: width, height: height,
                  pixels: [UInt8](repeating: 0, count: width * height * format.bytesPerPixel))
    }

    /// Bytes of one row.
    public var pitch: Int { width * format.bytesPerPixel }
}
