#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Model
import Storage
import ZIPFoundation

/// ZIP bodies of `POST /instances`: every regular file inside, extracted one entry at a time to its own incoming file
/// on the blob store (never into memory), each stored before the next is extracted. The sizes an archive declares are not trusted: the bytes actually inflated
/// are counted against limits on one entry, on the whole archive and on the compression ratio, so a ZIP bomb or a
/// forged (ZIP64) size ends in a clear error. Entries that are ZIPs themselves are extracted as files like any other
/// (and then skipped as not DICOM, as Orthanc skips them): there is no recursion.
public enum ZipUpload {
    /// Caps on what one archive may inflate to.
    public struct Limits: Sendable {
        /// Largest entry, in bytes.
        public var entrySize: Int64
        /// Largest sum of all entries, in bytes.
        public var totalSize: Int64
        /// Largest ratio of an entry's inflated size to its compressed size (small entries are exempt).
        public var compressionRatio: Int64
        /// Most regular files in one archive.
        public var entries: Int

        public init(entrySize: Int64, totalSize: Int64, compressionRatio: Int64 = 200, entries: Int = 200_000) {
            self.entrySize = entrySize
            self.totalSize = totalSize
            self.compressionRatio = compressionRatio
            self.entries = entries
        }
    }

    /// An entry written to an incoming file.
    public struct Extracted: Sendable {
        public var name: String
        public var path: String
    }

    /// Whether the file at `path` starts with a ZIP local file header.
    public static func isZip(path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 4)) ?? Data()
        return Array(head) == [0x50, 0x4B, 0x03, 0x04]
    }

    /// Opens the archive at `path` for ``Reader/next()``. Throws `badFileFormat` when it is not a readable ZIP.
    public static func open(archive path: String, into blobs: BlobStore, limits: Limits) throws(TesseraError) -> Reader {
        do {
            return Reader(archive: try Archive(url: URL(fileURLWithPath: path), accessMode: .read), blobs: blobs, limits: limits)
        } catch {
            throw TesseraError(.badFileFormat, message: "Bad file format", details: "Cannot read the ZIP archive: \(error)")
        }
    }

    /// The regular files of an archive, extracted one at a time, in archive order: the caller stores (or discards)
    /// each before asking for the next, so a request never has more than one entry on disk, however many the
    /// archive holds. Not for concurrent use.
    public final class Reader: @unchecked Sendable {
        private let archive: Archive
        private var entries: AnyIterator<Entry>
        private let blobs: BlobStore
        private let limits: Limits
        private var total: Int64 = 0
        private var count = 0

        init(archive: Archive, blobs: BlobStore, limits: Limits) {
            self.archive = archive
            self.entries = archive.makeIterator()
            self.blobs = blobs
            self.limits = limits
        }

        /// Extracts the next regular file to an incoming file of the blob store (the caller owns it: adopt or
        /// discard), or nil after the last one. Blocking. Throws `badFileFormat` for a damaged archive and
        /// `requestTooLarge` past a limit (on one entry, on the sum of all, on the compression ratio); the entry's
        /// incoming file is removed then.
        public func next() throws(TesseraError) -> Extracted? {
            while let entry = entries.next() {
                guard entry.type == .file else { continue }
                count += 1
                if count > limits.entries {
                    throw TesseraError(.requestTooLarge, details: "The ZIP archive holds more than \(limits.entries) files")
                }
                let incoming = blobs.incomingPath()
                do {
                    try extract(entry, to: incoming)
                } catch {
                    blobs.discard(incoming)
                    if let error = error as? TesseraError { throw error }
                    throw TesseraError(.badFileFormat, message: "Bad file format", details: "Cannot read the ZIP archive: \(error)")
                }
                return Extracted(name: entry.path, path: incoming)
            }
            return nil
        }

        private func extract(_ entry: Entry, to incoming: String) throws {
            let output = try Output(path: incoming)
            var written: Int64 = 0
            let compressed = Int64(clamping: entry.compressedSize)
            let limits = self.limits
            var total = self.total
            defer { self.total = total }
            _ = try archive.extract(entry, bufferSize: 64 * 1024, skipCRC32: false) { chunk in
                guard !chunk.isEmpty else {
                    // ZIPFoundation hands an empty entry over as one empty chunk; otherwise it reads up to the declared
                    // size, and an empty chunk means the archive ends first.
                    if entry.uncompressedSize == 0 && written == 0 { return }
                    throw TesseraError(.badFileFormat, details: "A ZIP entry is truncated: \(entry.path)")
                }
                written += Int64(chunk.count)
                total += Int64(chunk.count)
                if written > limits.entrySize {
                    throw TesseraError(.requestTooLarge, details: "A ZIP entry inflates past \(limits.entrySize) bytes: \(entry.path)")
                }
                if total > limits.totalSize {
                    throw TesseraError(.requestTooLarge, details: "The ZIP archive inflates past \(limits.totalSize) bytes")
                }
                if written > 1 << 20, written / max(1, compressed) > limits.compressionRatio {
                    throw TesseraError(.requestTooLarge, details: "A ZIP entry inflates more than \(limits.compressionRatio) times its compressed size: \(entry.path)")
                }
                try output.write(chunk)
            }
            try output.close()
        }
    }

    /// A file being written entry by entry.
    fileprivate final class Output {
        private var descriptor: Int32

        init(path: String) throws(TesseraError) {
            descriptor = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            guard descriptor >= 0 else {
                throw TesseraError(errno == ENOSPC ? .fullStorage : .cannotWriteFile, details: "open \(path): \(String(cString: strerror(errno)))")
            }
        }

        deinit {
            if descriptor >= 0 { Glibc.close(descriptor) }
        }

        func write(_ data: Data) throws(TesseraError) {
            let failure: Int32 = data.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let count = Glibc.write(descriptor, buffer.baseAddress.map { $0 + offset }, buffer.count - offset)
                    if count < 0 {
                        if errno == EINTR { continue }
                        return errno
                    }
                    offset += count
                }
                return 0
            }
            if failure != 0 {
                throw TesseraError(failure == ENOSPC ? .fullStorage : .cannotWriteFile, details: String(cString: strerror(failure)))
            }
        }

        func close() throws(TesseraError) {
            let result = Glibc.close(descriptor)
            descriptor = -1
            if result != 0 { throw TesseraError(.cannotWriteFile, details: String(cString: strerror(errno))) }
        }
    }
}
