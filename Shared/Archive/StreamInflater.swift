import CTesseraZlib

/// Inflates a gzip (RFC 1952) or zlib (RFC 1950, HTTP's `deflate`) stream chunk by chunk, as an upload arrives with
/// `Content-Encoding: gzip` or `deflate`: zlib finds the framing from the header.
public final class StreamInflater {
    private var stream = z_stream()
    private var finished = false

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public init() throws(Failure) {
        // windowBits 15 + 32: a gzip or zlib header, detected.
        guard inflateInit2_(&stream, 15 + 32, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw Failure(description: "zlib cannot start inflating")
        }
    }

    deinit {
        inflateEnd(&stream)
    }

    /// The bytes `chunk` inflates to (data after the end of the stream is refused).
    public func inflate(_ chunk: [UInt8]) throws(Failure) -> [UInt8] {
        guard !chunk.isEmpty else { return [] }
        guard !finished else { throw Failure(description: "data after the end of the compressed stream") }
        var output: [UInt8] = []
        var input = chunk
        var buffer = [UInt8](repeating: 0, count: 256 << 10)
        var status: Int32 = Z_OK
        input.withUnsafeMutableBufferPointer { source in
            stream.next_in = source.baseAddress
            stream.avail_in = uInt(source.count)
            repeat {
                let produced = buffer.withUnsafeMutableBufferPointer { target -> Int in
                    stream.next_out = target.baseAddress
                    stream.avail_out = uInt(target.count)
                    status = CTesseraZlib.inflate(&stream, Z_NO_FLUSH)
                    return target.count - Int(stream.avail_out)
                }
                output += buffer.prefix(produced)
            } while status == Z_OK && (stream.avail_in > 0 || stream.avail_out == 0)
            stream.next_in = nil
        }
        switch status {
        case Z_STREAM_END:
            finished = true
            guard stream.avail_in == 0 else { throw Failure(description: "data after the end of the compressed stream") }
        case Z_OK, Z_BUF_ERROR:
            break
        default:
            throw Failure(description: "damaged compressed stream (zlib status \(status))")
        }
        return output
    }

    /// Whether the whole stream was read (a truncated body is not).
    public var isComplete: Bool { finished }
}
