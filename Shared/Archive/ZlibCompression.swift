import CTesseraZlib

/// Orthanc's compressed attachments (`StorageCompression`, `/attachments/{name}/compress`): the uncompressed size
/// as a little-endian 64-bit integer, then a zlib stream (level 6).
public enum ZlibCompression {
    public static func compress(_ bytes: [UInt8]) -> [UInt8]? {
        var capacity = compressBound(uLong(bytes.count))
        var output = [UInt8](repeating: 0, count: Int(capacity) + 8)
        var size = UInt64(bytes.count).littleEndian
        withUnsafeBytes(of: &size) { header in
            for index in 0..<8 { output[index] = header[index] }
        }
        let status = output.withUnsafeMutableBufferPointer { target in
            bytes.withUnsafeBufferPointer { source in
                compress2(target.baseAddress.map { $0 + 8 }, &capacity, source.baseAddress, uLong(bytes.count), 6)
            }
        }
        guard status == Z_OK else { return nil }
        return Array(output.prefix(8 + Int(capacity)))
    }

    public static func uncompress(_ bytes: [UInt8]) -> [UInt8]? {
        guard bytes.count >= 8 else { return nil }
        var size: UInt64 = 0
        for index in (0..<8).reversed() { size = size << 8 | UInt64(bytes[index]) }
        guard size < 1 << 34 else { return nil }
        var length = uLong(size)
        var output = [UInt8](repeating: 0, count: max(1, Int(size)))
        let status = output.withUnsafeMutableBufferPointer { target in
            bytes.withUnsafeBufferPointer { source in
                CTesseraZlib.uncompress(target.baseAddress, &length, source.baseAddress.map { $0 + 8 }, uLong(bytes.count - 8))
            }
        }
        guard status == Z_OK, length == uLong(size) else { return nil }
        return Array(output.prefix(Int(size)))
    }

    /// A gzip stream (RFC 1952) of `bytes` at `level` (Orthanc's `Compress` to peers: level 9, sent with
    /// `Content-Encoding: gzip`); nil when zlib fails.
    public static func gzip(_ bytes: [UInt8], level: Int32 = 9) -> [UInt8]? {
        // windowBits 15 + 16: a gzip header and trailer instead of zlib's.
        deflate(bytes, level: level, windowBits: 15 + 16)
    }

    /// A raw deflate stream (RFC 1951, as ZIP entries hold it) of `bytes`; nil when zlib fails.
    public static func rawDeflate(_ bytes: [UInt8], level: Int32 = 6) -> [UInt8]? {
        deflate(bytes, level: level, windowBits: -15)
    }

    /// One deflate pass: zlib's `windowBits` picks the framing (negative: raw, 15 + 16: gzip).
    private static func deflate(_ bytes: [UInt8], level: Int32, windowBits: Int32) -> [UInt8]? {
        // One call, with zlib's 32-bit counts: larger inputs are refused.
        guard bytes.count < Int(UInt32.max) - (1 << 20) else { return nil }
        var stream = z_stream()
        guard deflateInit2_(&stream, level, Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY, zlibVersion(),
                            Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return nil }
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, uLong(bytes.count))) + 32
        guard bound < Int(UInt32.max) else { return nil }
        var output = [UInt8](repeating: 0, count: bound)
        var input = bytes
        let status = input.withUnsafeMutableBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                stream.next_in = source.baseAddress
                stream.avail_in = uInt(source.count)
                stream.next_out = target.baseAddress
                stream.avail_out = uInt(target.count)
                return CTesseraZlib.deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { return nil }
        return Array(output.prefix(Int(stream.total_out)))
    }
}
