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
/// Layout as Orthanc's: `root/ab/cd/abcd....` named by a ``BlobID`` (a UUID, never a path). Every blob starts as an
/// *incoming* file in `root/.incoming/` (a C-STORE received there by DCMTK, an upload streamed there, bytes written
/// there); ``adopt(_:md5:)`` fsyncs it, renames it into place and fsyncs the folder, so a reader never sees a partial
/// blob and once it returns the blob survives a crash or power loss. Incoming files that outlive their writer are
/// removed by the reconciler. File system calls run on a NIO thread pool, never on Swift's cooperative pool.
public struct BlobStore: Sendable {
    /// The root folder.
    public let root: String
    /// Where incoming files are written before they become blobs (same file system as the blobs, so a rename moves them).
    public let incomingFolder: String
    let threadPool: NIOThreadPool

    /// The suffix of incoming files.
    public static let incomingSuffix = ".tmp"

    /// Opens (creating when missing) the store at `root`.
    public init(root: String, threadPool: NIOThreadPool = .singleton) throws(TesseraError) {
        let absolute = root.hasPrefix("/") ? root : FileManager.default.currentDirectoryPath + "/" + root
        do {
            try FileManager.default.createDirectory(atPath: absolute + "/.incoming", withIntermediateDirectories: true)
        } catch {
            throw TesseraError(.cannotWriteFile, message: "Cannot create the storage directory", details: absolute)
        }
        self.root = absolute
        self.incomingFolder = absolute + "/.incoming"
        self.threadPool = threadPool
    }

    /// The path of a blob (whether or not it exists).
    public func path(of id: BlobID) -> String {
        let utf8 = Array(id.value.utf8)
        return "\(root)/\(String(decoding: utf8[0..<2], as: UTF8.self))/\(String(decoding: utf8[2..<4], as: UTF8.self))/\(id.value)"
    }

    /// Whether a file can be created in the storage now (readiness): creates and removes a probe file where incoming
    /// files go. False on a full, read-only or unmounted storage.
    public var isWritable: Bool {
        let probe = "\(incomingFolder)/.ready-\(UUID().uuidString.lowercased())"
        let descriptor = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard descriptor >= 0 else { return false }
        let written = pwrite(descriptor, "ok", 2, 0) == 2
        close(descriptor)
        unlink(probe)
        return written
    }

    /// A fresh path for an incoming file (nothing is created).
    public func incomingPath() -> String {
        "\(incomingFolder)/\(UUID().uuidString.lowercased())\(Self.incomingSuffix)"
    }

    // MARK: - Writing

    /// Writes `bytes` durably as a new blob named `id`.
    public func write(_ bytes: [UInt8], as id: BlobID = .generate()) async throws(TesseraError) -> BlobReference {
        let incoming = incomingPath()
        let store = self
        return try await run { () throws(TesseraError) -> BlobReference in
            try store.writeFile(bytes, to: incoming)
            return try store.adoptBlocking(incoming, md5: MD5Digest.hex(bytes), as: id)
        }
    }

    /// Makes the incoming file at `incoming` a durable blob under a new ID: fsync, rename into place, fsync of the
    /// folder. Computes the MD5 by reading the file unless it is given. On failure the incoming file is removed.
    public func adopt(_ incoming: String, md5: String? = nil) async throws(TesseraError) -> BlobReference {
        let store = self
        return try await run { () throws(TesseraError) -> BlobReference in try store.adoptBlocking(incoming, md5: md5) }
    }

    /// ``adopt(_:md5:)`` on the calling thread, for callers that are on a thread of their own already (DCMTK's).
    public func adoptBlocking(_ incoming: String, md5: String?, as id: BlobID = .generate()) throws(TesseraError) -> BlobReference {
        do throws(TesseraError) {
            let target = path(of: id)
            let descriptor = open(incoming, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { throw failure("open", incoming) }
            defer { close(descriptor) }
            var status = stat()
            guard fstat(descriptor, &status) == 0 else { throw failure("stat", incoming) }
            let digest: String
            if let md5 { digest = md5 } else { digest = try Self.md5(of: descriptor, path: incoming) }
            guard fsync(descriptor) == 0 else { throw failure("fsync", incoming) }
            let folder = String(target[..<(target.lastIndex(of: "/") ?? target.endIndex)])
            try ensureFolder(folder)
            guard rename(incoming, target) == 0 else { throw failure("rename", target) }
            try syncFolder(folder)
            return BlobReference(id: id, size: Int(status.st_size), md5: digest)
        } catch {
            unlink(incoming)
            throw error
        }
    }

    /// Removes an incoming file that will not become a blob (refused, or not DICOM). Missing is not an error.
    public func discard(_ incoming: String) {
        unlink(incoming)
    }

    // MARK: - Reading

    /// Runs `body` on the blocking thread pool with the path of an existing blob (to parse it in place, for
    /// instance); throws `inexistentFile` when the blob is missing and passes on what `body` throws.
    public func withBlob<Result: Sendable>(
        _ id: BlobID, _ body: @escaping @Sendable (String) throws(TesseraError) -> Result
    ) async throws(TesseraError) -> Result {
        let target = path(of: id)
        return try await run { () throws(TesseraError) -> Result in
            guard access(target, F_OK) == 0 else { throw TesseraError(.inexistentFile, details: "blob \(id)") }
            return try body(target)
        }
    }

    /// Reads a whole blob; throws `inexistentFile` when it is missing.
    public func read(_ id: BlobID) async throws(TesseraError) -> [UInt8] {
        let target = path(of: id)
        return try await run { () throws(TesseraError) -> [UInt8] in
            guard let data = FileManager.default.contents(atPath: target) else {
                throw TesseraError(.inexistentFile, details: "blob \(id)")
            }
            return [UInt8](data)
        }
    }

    /// Removes a blob; a missing blob is not an error (removal is idempotent).
    public func remove(_ id: BlobID) async throws(TesseraError) {
        let store = self
        try await run { () throws(TesseraError) in try store.removeBlocking(id) }
    }

    /// ``remove(_:)`` on the calling thread, for callers that are on a thread of their own already (DCMTK's).
    public func removeBlocking(_ id: BlobID) throws(TesseraError) {
        if unlink(path(of: id)) != 0 && errno != ENOENT {
            throw TesseraError(.cannotWriteFile, message: "Cannot remove a file", details: "blob \(id): errno \(errno)")
        }
    }

    /// Reads a blob in chunks of at most `chunkSize` bytes, handing each to `body` in order: large files are
    /// never held in memory whole. Each read runs on the store's thread pool.
    public func stream(_ id: BlobID, chunkSize: Int = 1 << 20, _ body: (ByteBuffer) async throws -> Void) async throws {
        try await stream(path: path(of: id), named: "blob \(id)", chunkSize: chunkSize, body)
    }

    /// Reads any file of the storage (a job's output) as ``stream(_:chunkSize:_:)`` reads a blob; `name` says which
    /// in errors.
    public func stream(path target: String, named name: String, chunkSize: Int = 1 << 20,
                       _ body: (ByteBuffer) async throws -> Void) async throws {
        let descriptor = try await run { () throws(TesseraError) -> Int32 in
            let descriptor = open(target, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else {
                throw errno == ENOENT ? TesseraError(.inexistentFile, details: name) : self.failure("open", target)
            }
            return descriptor
        }
        defer { close(descriptor) }
        var offset: off_t = 0
        while true {
            let position = offset
            let chunk = try await run { () throws(TesseraError) -> ByteBuffer in
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
                                       details: "\(name): \(String(cString: strerror(failure)))")
                }
                return buffer
            }
            if chunk.readableBytes == 0 { return }
            offset += off_t(chunk.readableBytes)
            try await body(chunk)
        }
    }

    /// The MD5 (lower-case hex) of a blob's bytes, read in chunks on the thread pool.
    public func md5(of id: BlobID) async throws(TesseraError) -> String {
        let target = path(of: id)
        return try await run { () throws(TesseraError) -> String in
            let descriptor = open(target, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else {
                throw errno == ENOENT ? TesseraError(.inexistentFile, details: "blob \(id)") : self.failure("open", target)
            }
            defer { close(descriptor) }
            return try Self.md5(of: descriptor, path: target)
        }
    }

    /// The size of a blob in bytes; nil when it is missing.
    public func size(of id: BlobID) -> Int64? {
        var status = stat()
        guard stat(path(of: id), &status) == 0 else { return nil }
        return Int64(status.st_size)
    }

    /// Whether a blob exists.
    public func exists(_ id: BlobID) -> Bool {
        access(path(of: id), F_OK) == 0
    }

    /// Which of `ids` exist, checked on the thread pool.
    public func existing(_ ids: [BlobID]) async throws(TesseraError) -> Set<BlobID> {
        let store = self
        return try await run { () throws(TesseraError) -> Set<BlobID> in Set(ids.filter { store.exists($0) }) }
    }

    /// Runs blocking work that reads blobs by path (see ``path(of:)``) on the store's thread pool.
    public func performBlocking<Result: Sendable>(_ body: @escaping @Sendable () throws(TesseraError) -> Result) async throws(TesseraError) -> Result {
        try await run(body)
    }

    // MARK: - Blocking helpers (run on the thread pool)

    private func run<Result: Sendable>(_ body: @escaping @Sendable () throws(TesseraError) -> Result) async throws(TesseraError) -> Result {
        do {
            return try await threadPool.runIfActive { try body() }
        } catch let error as TesseraError {
            throw error
        } catch {
            throw TesseraError(.internalError, details: String(describing: error))
        }
    }

    /// Writes `bytes` to a fresh incoming file (not synced: the ingest path makes it durable) and returns its path.
    /// Blocking.
    public func writeIncomingBlocking(_ bytes: [UInt8]) throws(TesseraError) -> String {
        let path = incomingPath()
        try writeFile(bytes, to: path)
        return path
    }

    private func writeFile(_ bytes: [UInt8], to path: String) throws(TesseraError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw failure("open", path) }
        defer { close(descriptor) }
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { buffer in
                Glibc.write(descriptor, buffer.baseAddress.map { $0 + written }, buffer.count - written)
            }
            if result < 0 {
                if errno == EINTR { continue }
                let error = failure("write", path)
                unlink(path)
                throw error
            }
            written += result
        }
    }

    /// The MD5 (lower-case hex) of the file at `path`. Blocking.
    public static func md5(ofFile path: String) throws(TesseraError) -> String {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw TesseraError(errno == ENOENT ? .inexistentFile : .internalError, message: "Cannot read a stored file",
                               details: "\(path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        return try md5(of: descriptor, path: path)
    }

    static func md5(of descriptor: Int32, path: String) throws(TesseraError) -> String {
        var digest = MD5Stream()
        let chunk = 1 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 16)
        defer { buffer.deallocate() }
        var offset: off_t = 0
        while true {
            let count = pread(descriptor, buffer.baseAddress, chunk, offset)
            if count < 0 {
                if errno == EINTR { continue }
                throw TesseraError(.internalError, message: "Cannot read a stored file", details: "\(path): \(String(cString: strerror(errno)))")
            }
            if count == 0 { return digest.hex }
            digest.update(bytes: UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            offset += off_t(count)
        }
    }

    /// Creates the two levels below the root when missing, and makes their entries durable.
    private func ensureFolder(_ folder: String) throws(TesseraError) {
        var status = stat()
        if stat(folder, &status) == 0 && (status.st_mode & S_IFMT) == S_IFDIR { return }
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

    func failure(_ call: String, _ path: String) -> TesseraError {
        let code = errno
        let reason = String(cString: strerror(code))
        return TesseraError(code == ENOSPC ? .fullStorage : .cannotWriteFile, details: "\(call) \(path): \(reason)")
    }
}
