import Model

/// One frame of an instance's pixel data, uncompressed, with the attributes that say how to read it.
public struct RawFrame: Sendable {
    public var rows: Int
    public var columns: Int
    public var samplesPerPixel: Int
    public var bitsAllocated: Int
    public var bitsStored: Int
    public var highBit: Int
    /// PixelRepresentation 1: two's-complement samples.
    public var isSigned: Bool
    /// PlanarConfiguration 1: all red samples, then green, then blue.
    public var isPlanar: Bool
    /// PhotometricInterpretation as stored ("MONOCHROME2", "YBR_FULL_422", ...).
    public var photometric: String
    /// The colour model of `bytes` after decompression (a JPEG decoder gives RGB for YBR images); the stored
    /// interpretation when the pixel data was not compressed.
    public var colorModel: String
    /// NumberOfFrames (1 when absent).
    public var frameCount: Int
    /// Whether the pixel data was compressed and went through a decoder.
    public var wasCompressed: Bool
    /// The frame: native layout, samples in little-endian order.
    public var bytes: [UInt8]
    /// The palette of a PALETTE COLOR image (red, green, blue), when present.
    public var palette: Palette?

    public init(rows: Int, columns: Int, samplesPerPixel: Int, bitsAllocated: Int, bitsStored: Int, highBit: Int,
                isSigned: Bool, isPlanar: Bool, photometric: String, colorModel: String, frameCount: Int, wasCompressed: Bool, bytes: [UInt8],
                palette: Palette? = nil) {
        self.rows = rows
        self.columns = columns
        self.samplesPerPixel = samplesPerPixel
        self.bitsAllocated = bitsAllocated
        self.bitsStored = bitsStored
        self.highBit = highBit
        self.isSigned = isSigned
        self.isPlanar = isPlanar
        self.photometric = photometric
        self.colorModel = colorModel
        self.frameCount = frameCount
        self.wasCompressed = wasCompressed
        self.bytes = bytes
        self.palette = palette
    }

    /// A colour lookup table (PS 3.3 C.7.6.3.1.5): three descriptors and three tables of entries.
    public struct Palette: Sendable {
        /// Per channel: entry count (0 in the descriptor means 65536), first mapped value, bits per entry.
        public var descriptors: [(count: Int, first: Int, bits: Int)]
        /// Per channel: the table's raw bytes (16-bit words, little-endian).
        public var tables: [[UInt8]]

        public init(descriptors: [(count: Int, first: Int, bits: Int)], tables: [[UInt8]]) {
            self.descriptors = descriptors
            self.tables = tables
        }
    }
}
