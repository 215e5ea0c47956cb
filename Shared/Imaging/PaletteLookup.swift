import DICOM
import Model

/// PALETTE COLOR images: each stored index mapped through the red, green and blue lookup tables. RGB24 output keeps
/// the 8 most significant bits of each entry (Orthanc: `entry >> 8` for 16-bit entries, `entry >> (bits - 8)` in
/// 1.12), RGB48 output the whole 16-bit entry. Indexes below the first mapped value take the first entry, above the
/// table the last (PS 3.3 C.7.6.3.1.5).
enum PaletteLookup {
    static func apply(_ frame: RawFrame, format: PixelFormat) throws(TesseraError) -> ImageBuffer {
        guard let palette = frame.palette, palette.descriptors.count == 3, palette.tables.count == 3 else {
            throw FrameDecoder.unsupported("a PALETTE COLOR image without its lookup tables")
        }
        guard !frame.isPlanar else { throw FrameDecoder.unsupported("a planar PALETTE COLOR image") }
        guard format == .rgb24 || format == .rgb48 else { throw FrameDecoder.unsupported("a palette lookup into \(format) pixels") }
        let tables = try (0..<3).map { channel throws(TesseraError) -> [UInt16] in
            let descriptor = palette.descriptors[channel], raw = palette.tables[channel]
            guard descriptor.bits == 8 || descriptor.bits == 16, descriptor.count > 0 else {
                throw FrameDecoder.unsupported("a lookup table of \(descriptor.bits)-bit entries")
            }
            var entries = [UInt16](repeating: 0, count: descriptor.count)
            if descriptor.bits == 16 {
                guard raw.count >= 2 * descriptor.count else {
                    throw TesseraError(.badFileFormat, details: "a palette lookup table shorter than its descriptor")
                }
                for index in entries.indices { entries[index] = UInt16(raw[2 * index]) | UInt16(raw[2 * index + 1]) << 8 }
            } else {
                // 8-bit entries: one per byte (OW words hold two), scaled to 16 bits.
                guard raw.count >= descriptor.count else {
                    throw TesseraError(.badFileFormat, details: "a palette lookup table shorter than its descriptor")
                }
                for index in entries.indices { entries[index] = UInt16(raw[index]) << 8 | UInt16(raw[index]) }
            }
            return entries
        }
        let width = frame.columns, height = frame.rows
        let sampleBytes = max(1, frame.bitsAllocated / 8)
        guard frame.bytes.count >= width * height * sampleBytes else {
            throw TesseraError(.badFileFormat, details: "the pixel data is shorter than its attributes say")
        }
        let firsts = palette.descriptors.map(\.first)
        var image = ImageBuffer(format: format, width: width, height: height)
        let wide = format == .rgb48
        frame.bytes.withUnsafeBufferPointer { source in
            image.pixels.withUnsafeMutableBufferPointer { target in
                var offset = 0
                for pixel in 0..<width * height {
                    var index = Int(source[pixel * sampleBytes])
                    if sampleBytes == 2 { index |= Int(source[pixel * sampleBytes + 1]) << 8 }
                    for channel in 0..<3 {
                        let table = tables[channel]
                        let entry = table[min(max(index - firsts[channel], 0), table.count - 1)]
                        if wide {
                            target[offset] = UInt8(entry & 0xFF)
                            target[offset + 1] = UInt8(entry >> 8)
                            offset += 2
                        } else {
                            target[offset] = UInt8(entry >> 8)
                            offset += 1
                        }
                    }
                }
            }
        }
        return image
    }
}
