import Archive
import Foundation
import NIOCore
import Testing
import ZIPFoundation

@Suite("Streamed ZIP archives")
struct ZipStreamWriterTests {
    /// Writes entries in several chunks each, as the archive route does, and returns the whole archive.
    func archive(_ files: [(String, [UInt8])], chunk: Int = 7) throws -> Data {
        var writer = ZipStreamWriter()
        var output = ByteBuffer()
        for (name, bytes) in files {
            output.writeImmutableBuffer(writer.beginEntry(name, size: UInt64(bytes.count)))
            var position = 0
            while position < bytes.count {
                let part = ByteBuffer(bytes: bytes[position..<min(bytes.count, position + chunk)])
                writer.entryData(part)
                output.writeImmutableBuffer(part)
                position += chunk
            }
            output.writeImmutableBuffer(try writer.endEntry())
        }
        output.writeImmutableBuffer(writer.finish())
        #expect(writer.bytesWritten == UInt64(output.readableBytes))
        return Data(output.readableBytesView)
    }

    @Test("A standard reader (ZIPFoundation) lists the entries and extracts them with matching CRC-32")
    func roundTrip() throws {
        let files: [(String, [UInt8])] = [
            ("PATIENT/STUDY/SERIES/CT000000.dcm", (0..<1000).map { UInt8($0 % 251) }),
            ("PATIENT/STUDY/SERIES/CT000001.dcm", []),
            ("Ünïcödé/名前.dcm", Array("hello".utf8)),
        ]
        let data = try archive(files)
        let zip = try Archive(data: data, accessMode: .read)
        let entries = Array(zip)
        #expect(entries.map(\.path) == files.map(\.0))
        for (entry, file) in Swift.zip(entries, files) {
            var extracted = Data()
            _ = try zip.extract(entry, skipCRC32: false) { extracted.append($0) }
            #expect(Array(extracted) == file.1, "\(file.0)")
        }
    }

    @Test("An entry that gets fewer bytes than announced is an error, not a corrupt archive")
    func sizeMismatch() throws {
        var writer = ZipStreamWriter()
        _ = writer.beginEntry("a.dcm", size: 10)
        writer.entryData(ByteBuffer(bytes: [1, 2, 3]))
        #expect(throws: ZipStreamWriter.SizeMismatch.self) { _ = try writer.endEntry() }
    }
}
