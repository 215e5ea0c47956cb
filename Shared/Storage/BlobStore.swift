#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Model
import NIOCore
import NIOPosix

/// Blobs on a directory that several processes share (a local disk or a shared volume).
///
/// Layout as Orthanc's: `root/ab/cd/abcd....` named by a random UUID. A write goes to a temporary file in the
/// target folder, is fsync'ed, renamed into place, and the folder is fsync'ed: a reader never sees a partial
/// file, and once ``write(_:)`` returns the blob survives a crash or power loss. File system calls run on NIO's
/// blocking thread pool, never on Swift's cooperative pool.
public struct BlobStore: Sendable {
    /// The root folder.
    public let root: String
    private let threadPool: NIOThreadPool

    /// Opens (creating when missing) the store at `root`.
    public init(root: String, threadPool: NIOThreadPool = .singleton) throws(TesseraError) {
        let absolute = root.hasPrefix("/") ? root : FileManager.default.currentDirectoryPath + "/" + root
        do {
            try FileManager.default.createDirectory(atPath: absolute, withIntermediateDirectories: true)
        } catch {
            throw TesseraError(.cannotWriteFile, message: "Cannot create the storage directory", details: absolute)
        }
        self.root = absolute
        self.threadPool = threadPool
    }

    /// The path of a blob (whether or not it exists).
    public func path(of uuid: String) -> String {
        let name = uuid.lowercased()
        let utf8 = Array(name.utf8)
        guard utf8.count >= 4 else { return "\(root)/\(name)" }
        let first = String(decoding: utf8[0..<2], as: UTF8.self)
        let second = String(decoding: utf8[2..<4], as: UTF8.self)
        return "\(root)/\(first)/\(second)/\(name)"
    }

    /// Writes `bytes` durably under a new UUID.
    public func write(_ bytes: [UInt8]) async throws(TesseraError) -> BlobReference {
        let uuid = UUID().uuidString.lowercased()
        let target = path(of: uuid)
        let store = self
        do {
            try await threadPool.runIfActive {
                try store.writeDurably(bytes, to: target)
            }
        } catch let error as TesseraError {
            throw error
        } catch {
            throw TesseraError(.cannotWriteFile, details: String(describing: error))
        }
        return BlobReference(uuid: uuid, size: bytes.count)
    }

    /// Runs `body` on the blocking thread pool with the path of an existing blob (to parse it in place, for
    /// instance); throws `inexistentFile` when the blob is missing and passes on what `body` throws.
    public func withBlob<Result: Sendable>(
        _ uuid: String, _ body: @escaping @Sendable (String) throws(TesseraError) -> Result
    ) async throws(TesseraError) -> Result {
        let target = path(of: uuid)
        do {
            return try await threadPool.runIfActive {
                guard FileManager.default.fileExists(atPath: target) else {
                    throw TesseraError(.inexistentFile, details: "blob \(uuid)")
                }
                return try body(target)
            }
        } catch let error as TesseraError {
            throw error
        } catch {
            throw TesseraError(.inexistentFile, details: String(describing: error))
        }
    }

    /// Reads a whole blob; throws `inexistentFile` when it is missing.
    public func read(_ uuid: String) async throws(TesseraError) -> [UInt8] {
        let target = path(of: uuid)
        do {
            return try await threadPool.runIfActive {
                guard let data = FileManager.default.contents(atPath: target) else {
                    throw TesseraError(.inexistentFile, details: "blob \(uuid)")
                }
                return [UInt8](data)
            }
        } catch let error as TesseraError {
            throw error
        } catch {
            throw TesseraError(.inexistentFile, details: String(describing: error))
        }
    }

    /// Removes a blob; a missing blob is not an error (removal is idempotent).
    public func remove(_ uuid: String) async throws(TesseraError) {
        let target = path(of: uuid)
        do {
            try await threadPool.runIfActive {
                if unlink(target) != 0 && errno != ENOENT {
                    throw TesseraError(.cannotWriteFile, message: "Cannot remove a file", details: "blob \(uuid): errno \(errno)")
                }
            }
        } catch let error as TesseraError {
            throw error
        } catch {
            throw TesseraError(.cannotWriteFile, details: String(describing: error))
        }
    }

    /// Reads a blob in chunks of at most `chunkSize` bytes, handing each to `body` in order: large files are
    /// never held in memory whole. Each read runs on the store's thread pool.
    public func stream(_ uuid: String, chunkSize: Int = 1 << 20,
                       _ body: (ByteBuffer) async throws -> Void) async throws {
        let target = path(of: uuid)
        let descriptor = try await threadPool.runIfActive { () throws(TesseraError) -> Int32 in
            let descriptor = open(target, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else {
                throw errno == ENOENT ? TesseraError(.inexistentFile, details: "blob \(uuid)") : self.failure("open", target)
            }
            return descriptor
        }
        defer { close(descriptor) }
        var offset: off_t = 0
        while true {
            let position = offset
            let chunk = try await threadPool.runIfActive { () throws(TesseraError) -> ByteBuffer in
                var buffer = ByteBufferAllocator().buffer(capacity: chunkSize)
                var failure: Int32 = 0
                buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: chunkSize) { pointer in
                    while true {
                        let count = pread(descriptor, pointer.baseAddress, chunkSize, position)
                        if count >= 0 { return count }
                        if errno != EINTR { failure = errno; return 0 }
                    }
                }
                guard failure == 0 else {
                    throw TesseraError(.internalError, message: "Cannot read a stored file",
                                       details: "blob \(uuid): \(String(cString: strerror(failure)))")
                }
                return buffer
            }
            if chunk.readableBytes == 0 { return }
            offset += off_t(chunk.readableBytes)
            try await body(chunk)
        }
    }

    /// The size of a blob in bytes; nil when it is missing.
    public func size(of uuid: String) -> Int64? {
        var status = stat()
        guard stat(path(of: uuid), &status) == 0 else { return nil }
        return Int64(status.st_size)
    }

    /// Runs blocking work that reads blobs by path (see ``path(of:)``) on the store's thread pool.
    public func performBlocking<Result: Sendable>(_ body: @escaping @Sendable () throws(TesseraError) -> Result) async throws(TesseraError) -> Result {
        do {
            return try await threadPool.runIfActive { try body() }
        } catch let error as TesseraError {
            throw error
        } catch {
            throw TesseraError(.internalError, details: String(describing: error))
        }
    }

    /// Whether a blob exists.
    public func exists(_ uuid: String) -> Bool {
        FileManager.default.fileExists(atPath: path(of: uuid))
    }

    // MARK: - Blocking helpers (run on the thread pool)

    private func writeDurably(_ bytes: [UInt8], to target: String) throws(TesseraError) {
        let folder = String(target[..<(target.lastIndex(of: "/") ?? target.endIndex)])
        try ensureFolder(folder)
        let temporary = folder + "/." + String(target[target.index(after: target.lastIndex(of: "/") ?? target.startIndex)...]) + ".tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw failure("open", temporary) }
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { buffer in
                Glibc.write(descriptor, buffer.baseAddress! + written, buffer.count - written)
            }
            if result < 0 {
                if errno == EINTR { continue }
                let error = failure("write", temporary)
                close(descriptor)
                unlink(temporary)
                throw error
            }
            written += result
        }
        guard fsync(descriptor) == 0 else {
            let error = failure("fsync", temporary)
            close(descriptor)
            unlink(temporary)
            throw error
        }
        close(descriptor)
        guard rename(temporary, target) == 0 else {
            let error = failure("rename", target)
            unlink(temporary)
            throw error
        }
        try syncFolder(folder)
    }

    /// Creates the two levels below the root when missing, and makes their entries durable.
    private func ensureFolder(_ folder: String) throws(TesseraError) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue { return }
        let parent = String(folder[..<(folder.lastIndex(of: "/") ?? folder.endIndex)])
        if parent.count > root.count { try ensureFolder(parent) }
        if mkdir(folder, 0o755) != 0 && errno != EEXIST { throw failure("mkdir", folder) }
        try syncFolder(parent)
    }

    private func syncFolder(_ folder: String) throws(TesseraError) {
        let descriptor = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw failure("open", folder) }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw failure("fsync", folder) }
    }

    private func failure(_ call: String, _ path: String) -> TesseraError {
        let code = errno
        let reason = String(cString: strerror(code))
        return TesseraError(code == ENOSPC ? .fullStorage : .cannotWriteFile,
                            details: "\(call) \(path): \(reason)")
    }
}
