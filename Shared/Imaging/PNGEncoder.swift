import CTesseraZlib
import Model

/// Writes PNG files (ISO/IEC 15948): 8- and 16-bit greyscale, 24- and 48-bit RGB, every row unfiltered, one zlib
/// stream in one IDAT chunk. 16-bit samples are written big-endian as PNG requires; signed 16-bit pixels are written
/// as their two's-complement bit patterns, as Orthanc's PngWriter does.
public enum PNGEncoder {
    public static func encode(_ image: ImageBuffer) throws(TesseraError) -> [UInt8] {
        let (colorType, depth): (UInt8, UInt8)
        switch image.format {
        case .grayscale8: (colorType, depth) = (0, 8)
        case .grayscale16, .signedGrayscale16: (colorType, depth) = (0, 16)
        case .rgb24: (colorType, depth) = (2, 8)
        case .rgb48: (colorType, depth) = (2, 16)
        case .grayscale32, .float32:
            throw TesseraError(.notImplemented, details: "PNG cannot hold \(image.format) pixels")
        }
        guard image.width > 0, image.height > 0, image.width <= Int(Int32.max), image.height <= Int(Int32.max) else {
            throw TesseraError(.parameterOutOfRange, details: "PNG of \(image.width)x\(image.height) pixels")
        }
        // Scanlines: a filter byte (0, none), then the row with 16-bit samples swapped to big-endian.
        let pitch = image.pitch
        var raw = [UInt8](repeating: 0, count: (pitch + 1) * image.height)
        image.pixels.withUnsafeBufferPointer { source in
            raw.withUnsafeMutableBufferPointer { target in
                for row in 0..<image.height {
                    let from = row * pitch, to = row * (pitch + 1) + 1
                    if depth == 16 {
                        var index = 0
                        while index < pitch {
                            target[to + index] = source[from + index + 1]
                            target[to + index + 1] = source[from + index]
                            index += 2
                        }
                    } else {
                        for index in 0..<pitch { target[to + index] = source[from + index] }
                    }
                }
            }
        }
        var header = [UInt8]()
        header.reserveCapacity(13)
        appendBigEndian(UInt32(image.width), to: &header)
        appendBigEndian(UInt32(image.height), to: &header)
        header += [depth, colorType, 0, 0, 0]
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        appendChunk("IHDR", header, to: &png)
        appendChunk("IDAT", try deflated(raw), to: &png)
        appendChunk("IEND", [], to: &png)
        return png
    }

    private static func deflated(_ bytes: [UInt8]) throws(TesseraError) -> [UInt8] {
        var capacity = compressBound(uLong(bytes.count))
        var output = [UInt8](repeating: 0, count: Int(capacity))
        let status = output.withUnsafeMutableBufferPointer { target in
            bytes.withUnsafeBufferPointer { source in
                compress2(target.baseAddress, &capacity, source.baseAddress, uLong(source.count), 4)
            }
        }
        guard status == Z_OK else { throw TesseraError(.internalError, details: "zlib failed to compress a PNG (\(status))") }
        return Array(output.prefix(Int(capacity)))
    }

    private static func appendChunk(_ type: String, _ data: [UInt8], to png: inout [UInt8]) {
        appendBigEndian(UInt32(data.count), to: &png)
        let typeBytes = Array(type.utf8)
        var crc = crc32(0, nil, 0)
        crc = typeBytes.withUnsafeBufferPointer { crc32(crc, $0.baseAddress, uInt($0.count)) }
        crc = data.withUnsafeBufferPointer { crc32(crc, $0.baseAddress, uInt($0.count)) }
        png += typeBytes
        png += data
        appendBigEndian(UInt32(truncatingIfNeeded: crc), to: &png)
    }

    private static func appendBigEndian(_ value: UInt32, to bytes: inout [UInt8]) {
        bytes += [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }
}
