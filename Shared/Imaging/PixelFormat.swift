/// How the pixels of an ``ImageBuffer`` are laid out, as Orthanc's `PixelFormat`: every sample little-endian,
/// rows tightly packed, colour samples interleaved (R, G, B).
public enum PixelFormat: Sendable, Equatable {
    case grayscale8
    case grayscale16
    case signedGrayscale16
    case grayscale32
    case rgb24
    case rgb48
    case float32

    /// Bytes of one pixel.
    public var bytesPerPixel: Int {
        switch self {
        case .grayscale8: 1
        case .grayscale16, .signedGrayscale16: 2
        case .grayscale32, .float32: 4
        case .rgb24: 3
        case .rgb48: 6
        }
    }

    /// Samples per pixel.
    public var channels: Int {
        switch self {
        case .rgb24, .rgb48: 3
        default: 1
        }
    }

    /// Whether the pixels are colour (RGB).
    public var isColor: Bool { channels == 3 }
}
