import Archive
import CTesseraZlib
import Model

/// Writes NumPy arrays as Orthanc's `/numpy` routes do: a `.npy` file (format 1.0) of shape (height, width, channels)
/// for a frame, (depth, height, width, channels) for an instance or a series, optionally in an `.npz` archive whose one
/// deflated entry is named `arr_0`.
public struct NumpyWriter: Sendable {
    /// NumPy's `descr` of the samples: `<u1`, `<u2`, `<i2`, `<u4`, `<f4`.
    public let descr: String
    /// The pixel format of the images.
    public let format: PixelFormat
    public let width: Int
    public let height: Int
    public let channels: Int
    /// The number of stacked images, or nil for a three-dimensional array (one frame).
    public var depth: Int?
    private var body: [UInt8] = []

    /// A writer of images in `format`, `depth` of them stacked (nil: one frame, three dimensions).
    public init(format: PixelFormat, width: Int, height: Int, depth: Int?) {
        switch format {
        case .grayscale8, .rgb24: descr = "<u1"
        case .grayscale16, .rgb48: descr = "<u2"
        case .signedGrayscale16: descr = "<i2"
        case .grayscale32: descr = "<u4"
        case .float32: descr = "<f4"
        }
        self.format = format
        self.width = width
        self.height = height
        self.channels = format.channels
        self.depth = depth
    }

    /// Bytes of pixels appended so far.
    public var bodyCount: Int { body.count }

    /// Appends one image's pixels (of the format, width and height given at creation).
    public mutating func append(_ image: ImageBuffer) {
        body += image.pixels
    }

    /// Makes room for `frames` images in all (a series whose frame count is known).
    public mutating func reserve(frames: Int) {
        body.reserveCapacity(frames * width * height * channels * (descr.hasSuffix("1") ? 1 : descr.hasSuffix("2") ? 2 : 4))
    }

    /// The `.npy` file.
    public func npy() -> [UInt8] {
        // Orthanc's spelling of the shape: "(depth, height,width,channels)".
        let shape = (depth.map { "\($0), " } ?? "") + "\(height),\(width),\(channels)"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': (\(shape)), }"
        // Magic (6) + version (2) + length (2) + header + "\n", padded with spaces to a multiple of 64 bytes.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        let length = header.utf8.count
        var file: [UInt8] = []
        file.reserveCapacity(10 + length + body.count)
        file += [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(length & 0xFF), UInt8(length >> 8)]
        file += Array(header.utf8)
        file += body
        return file
    }

    /// The `.npz` archive: a ZIP whose one entry, `arr_0`, holds the `.npy` file deflated.
    public func npz() throws(TesseraError) -> [UInt8] {
        let array = npy()
        guard array.count < 0xFFFF_FFFF else {
            throw TesseraError(.notImplemented, details: "compressed NumPy arrays of 4 GiB or more")
        }
        guard let compressed = ZlibCompression.rawDeflate(array) else {
            throw TesseraError(.internalError, details: "zlib failed to compress a NumPy array")
        }
        let crc = UInt32(truncatingIfNeeded: array.withUnsafeBufferPointer { crc32(0, $0.baseAddress, uInt($0.count)) })
        let name = Array("arr_0".utf8)
        var zip = [UInt8]()
        func le16(_ value: Int) { zip += [UInt8(value & 0xFF), UInt8(value >> 8 & 0xFF)] }
        func le32(_ value: UInt32) { zip += [UInt8(value & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 24)] }
        // Local header, data, central directory, end record; DOS date 1980-01-01.
        le32(0x0403_4B50); le16(20); le16(0); le16(8); le16(0); le16(0x21)
        le32(crc); le32(UInt32(compressed.count)); le32(UInt32(array.count)); le16(name.count); le16(0)
        zip += name
        zip += compressed
        let directory = zip.count
        le32(0x0201_4B50); le16(20); le16(20); le16(0); le16(8); le16(0); le16(0x21)
        le32(crc); le32(UInt32(compressed.count)); le32(UInt32(array.count)); le16(name.count); le16(0); le16(0)
        le16(0); le16(0); le32(0); le32(0)
        zip += name
        let directorySize = zip.count - directory
        le32(0x0605_4B50); le16(0); le16(0); le16(1); le16(1); le32(UInt32(directorySize)); le32(UInt32(directory)); le16(0)
        return zip
    }
}
