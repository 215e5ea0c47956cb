import Crypto

/// Lower-case hex MD5, as Orthanc prints attachment and metadata digests (ETags, `/md5`).
public enum MD5Digest {
    public static func hex(_ bytes: some Sequence<UInt8>) -> String {
        var digest = MD5Stream()
        digest.update(bytes)
        return digest.hex
    }
}

/// An MD5 computed over chunks (a stored file read piece by piece).
public struct MD5Stream {
    private var hasher = Insecure.MD5()

    public init() {}

    public mutating func update(_ chunk: some Sequence<UInt8>) {
        var hasher = self.hasher
        if chunk.withContiguousStorageIfAvailable({ hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }) == nil {
            hasher.update(data: Array(chunk))
        }
        self.hasher = hasher
    }

    /// Adds bytes in place (no copy).
    public mutating func update(bytes: UnsafeRawBufferPointer) {
        hasher.update(bufferPointer: bytes)
    }

    public var hex: String {
        hasher.finalize().map { byte in byte < 16 ? "0" + String(byte, radix: 16) : String(byte, radix: 16) }.joined()
    }
}
