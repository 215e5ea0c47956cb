import Foundation
import Model
import ZIPFoundation

/// ZIP bodies of `POST /instances`: every regular file inside, in archive order.
enum ZipUpload {
    /// Whether the body starts with a ZIP local file header.
    static func isZip(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 4 && bytes[0] == 0x50 && bytes[1] == 0x4B && bytes[2] == 0x03 && bytes[3] == 0x04
    }

    /// The files of the archive; throws `badFileFormat` for a damaged archive.
    static func files(_ bytes: [UInt8]) throws(TesseraError) -> [(name: String, bytes: [UInt8])] {
        do {
            let archive = try Archive(data: Data(bytes), accessMode: .read)
            var files: [(name: String, bytes: [UInt8])] = []
            for entry in archive where entry.type == .file {
                var content = [UInt8]()
                content.reserveCapacity(Int(clamping: entry.uncompressedSize))
                _ = try archive.extract(entry, skipCRC32: false) { chunk in content.append(contentsOf: chunk) }
                files.append((entry.path, content))
            }
            return files
        } catch {
            throw TesseraError(.badFileFormat, message: "Bad file format", details: "Cannot read the ZIP archive: \(error)")
        }
    }
}
