import Archive
import Foundation
@testable import Ingest
import Testing

@Suite("Upload forms: multipart bodies and compressed bodies")
struct UploadFormTests {
    static func body(_ parts: [(headers: String, content: [UInt8])], boundary: String) -> [UInt8] {
        var body = Array("preamble to ignore\r\n".utf8)
        for part in parts {
            body += Array("--\(boundary)\r\n\(part.headers)\r\n\r\n".utf8) + part.content + Array("\r\n".utf8)
        }
        return body + Array("--\(boundary)--\r\nepilogue".utf8)
    }

    /// The parts a splitter finds when the body arrives in chunks of `size` bytes.
    static func parts(of body: [UInt8], boundary: String, chunk size: Int) throws -> [(String, [UInt8])] {
        var splitter = MultipartSplitter(boundary: boundary)
        var parts: [(String, [UInt8])] = []
        for start in stride(from: 0, to: body.count, by: size) {
            for event in try splitter.feed(body[start..<min(body.count, start + size)]) {
                switch event {
                case .begin(let headers): parts.append((headers, []))
                case .data(let bytes): parts[parts.count - 1].1 += bytes
                case .end: break
                }
            }
        }
        #expect(splitter.isComplete)
        return parts
    }

    @Test("Parts come out whole whatever the chunking, content that looks like a boundary included")
    func chunking() throws {
        let boundary = "XyZ0123"
        // Content holding CRLF, dashes and near-delimiters (a shorter boundary, one without its CRLF, one dash short).
        let tricky = Array("a\r\n--XyZ012 not the end; --XyZ0123 inline, \r\n-XyZ0123 either".utf8)
        let binary = (0..<3000).map { UInt8($0 % 251) }
        let body = Self.body([("Content-Disposition: form-data; name=\"a\"; filename=\"a.dcm\"", tricky),
                              ("Content-Disposition: form-data; name=\"b\"", binary),
                              ("Content-Type: application/dicom", [])], boundary: boundary)
        for size in [1, 2, 3, 7, 64, 1000, body.count] {
            let parts = try Self.parts(of: body, boundary: boundary, chunk: size)
            #expect(parts.count == 3, "chunks of \(size)")
            #expect(parts.first?.1 == tricky && parts.dropFirst().first?.1 == binary && parts.last?.1 == [], "chunks of \(size)")
            #expect(parts.first?.0.contains("filename=\"a.dcm\"") == true)
        }
    }

    @Test("Boundaries from Content-Type; malformed bodies")
    func boundaries() throws {
        #expect(MultipartSplitter.boundary(contentType: "multipart/form-data; boundary=abc") == "abc")
        #expect(MultipartSplitter.boundary(contentType: "Multipart/Form-Data; charset=utf-8; boundary=\"a b\"") == "a b")
        #expect(MultipartSplitter.boundary(contentType: "multipart/form-data") == nil)
        #expect(MultipartSplitter.boundary(contentType: "application/dicom") == nil)
        #expect(MultipartSplitter.boundary(contentType: "multipart/form-data; boundary=" + String(repeating: "x", count: 71)) == nil)
        // No delimiter at all: nothing, and not complete.
        var splitter = MultipartSplitter(boundary: "b")
        #expect(try splitter.feed(Array("just bytes".utf8)).isEmpty && !splitter.isComplete)
        // Headers that never end are refused past their limit.
        var endless = MultipartSplitter(boundary: "b")
        _ = try endless.feed(Array("--b\r\n".utf8))
        #expect(throws: MultipartSplitter.Failure.self) { try endless.feed([UInt8](repeating: 65, count: MultipartSplitter.maximumHeaders + 10)) }
    }

    @Test("gzip and zlib bodies inflate chunk by chunk; damaged or trailing data is refused")
    func inflation() throws {
        let original = (0..<200_000).map { UInt8(($0 * 7) % 256) }
        for compressed in [try #require(ZlibCompression.gzip(original)), try #require(Self.zlib(original))] {
            let inflater = try StreamInflater()
            var output: [UInt8] = []
            for start in stride(from: 0, to: compressed.count, by: 333) {
                output += try inflater.inflate(Array(compressed[start..<min(compressed.count, start + 333)]))
            }
            #expect(output == original && inflater.isComplete)
        }
        let gzip = try #require(ZlibCompression.gzip(original))
        #expect(throws: StreamInflater.Failure.self) { try StreamInflater().inflate(Array("not compressed".utf8)) }
        #expect(throws: StreamInflater.Failure.self) { try StreamInflater().inflate(gzip + [1, 2, 3]) }
        let truncated = try StreamInflater()
        _ = try truncated.inflate(Array(gzip.prefix(gzip.count / 2)))
        #expect(!truncated.isComplete)
    }

    /// A zlib stream (RFC 1950): what HTTP calls `deflate`.
    static func zlib(_ bytes: [UInt8]) -> [UInt8]? {
        // Orthanc's attachment format is an 8-byte size, then a zlib stream.
        ZlibCompression.compress(bytes).map { Array($0.dropFirst(8)) }
    }
}
