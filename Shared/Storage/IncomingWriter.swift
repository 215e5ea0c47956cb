#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Model
import NIOCore
import NIOPosix

/// An incoming file being written from a stream (an HTTP body), chunk by chunk on the blob store's thread pool: a
/// large upload never sits in memory. Use it from one task; ``close()`` or ``discard()`` it.
public final class IncomingWriter: @unchecked Sendable {
    /// The incoming file's path.
    public let path: String
    private let descriptor: Int32
    private let threadPool: NIOThreadPool
    private var closed = false
    /// Bytes written so far.
    public private(set) var size: Int64 = 0

    init(path: String, threadPool: NIOThreadPool) throws(TesseraError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw TesseraError(errno == ENOSPC ? .fullStorage : .cannotWriteFile, details: "open \(path): \(String(cString: strerror(errno)))")
        }
        self.path = path
        self.descriptor = descriptor
        self.threadPool = threadPool
    }

    deinit {
        if !closed { Glibc.close(descriptor) }
    }

    /// Appends a chunk.
    public func append(_ chunk: ByteBuffer) async throws(TesseraError) {
        let descriptor = self.descriptor
        let failure: Int32
        do {
            failure = try await threadPool.runIfActive { () -> Int32 in
                chunk.withUnsafeReadableBytes { bytes in
                    var offset = 0
                    while offset < bytes.count {
                        let count = write(descriptor, bytes.baseAddress.map { $0 + offset }, bytes.count - offset)
                        if count < 0 {
                            if errno == EINTR { continue }
                            return errno
                        }
                        offset += count
                    }
                    return 0
                }
            }
        } catch {
            throw TesseraError(.internalError, details: String(describing: error))
        }
        if failure != 0 {
            throw TesseraError(failure == ENOSPC ? .fullStorage : .cannotWriteFile, details: String(cString: strerror(failure)))
        }
        size += Int64(chunk.readableBytes)
    }

    /// Closes the file; it stays on disk for the caller to adopt or discard.
    public func close() {
        guard !closed else { return }
        closed = true
        Glibc.close(descriptor)
    }

    /// Closes and removes the file.
    public func discard() {
        close()
        unlink(path)
    }
}

extension BlobStore {
    /// Starts a new incoming file.
    public func incomingWriter() throws(TesseraError) -> IncomingWriter {
        try IncomingWriter(path: incomingPath(), threadPool: threadPool)
    }
}
