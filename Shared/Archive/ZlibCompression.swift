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
}
