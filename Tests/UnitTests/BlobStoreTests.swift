import Foundation
import Model
import Storage
import Testing

@Suite("Blob store")
struct BlobStoreTests {
    private func store() throws -> BlobStore {
        try BlobStore(root: FileManager.default.temporaryDirectory.appendingPathComponent("tessera-blobs-\(UUID().uuidString)").path)
    }

    @Test("Write, read back, Orthanc's two-level layout, the MD5 of the bytes, no incoming file left")
    func roundTrip() async throws {
        let blobs = try store()
        let bytes = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let reference = try await blobs.write(bytes)
        #expect(reference.size == bytes.count)
        #expect(reference.md5 == MD5Digest.hex(bytes))
        #expect(try await blobs.read(reference.id) == bytes)
        #expect(try await blobs.md5(of: reference.id) == reference.md5)
        let path = blobs.path(of: reference.id)
        let uuid = Array(reference.id.value)
        #expect(path == "\(blobs.root)/\(String(uuid[0..<2]))/\(String(uuid[2..<4]))/\(reference.id)")
        let folder = (path as NSString).deletingLastPathComponent
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == [reference.id.value])
        #expect(try FileManager.default.contentsOfDirectory(atPath: blobs.incomingFolder).isEmpty)
    }

    @Test("Concurrent writes each get their own blob, in increasing ingest order")
    func concurrent() async throws {
        let blobs = try store()
        let references = try await withThrowingTaskGroup(of: BlobReference.self) { group in
            for index in 0..<32 {
                group.addTask { try await blobs.write([UInt8](repeating: UInt8(index), count: 1000 + index)) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(Set(references.map(\.id)).count == 32)
        for reference in references {
            let bytes = try await blobs.read(reference.id)
            #expect(bytes.count == reference.size)
            #expect(Set(bytes).count == 1)
            #expect(reference.id.version == 7)
        }
    }

    @Test("Remove is idempotent; reading a missing blob is an inexistent-file error")
    func remove() async throws {
        let blobs = try store()
        let reference = try await blobs.write([1, 2, 3])
        try await blobs.remove(reference.id)
        try await blobs.remove(reference.id)
        #expect(!blobs.exists(reference.id))
        do {
            _ = try await blobs.read(reference.id)
            Issue.record("reading a removed blob must fail")
        } catch {
            #expect(error.code == .inexistentFile)
        }
    }

    @Test("An incoming file is adopted under a new blob ID; a failed adoption removes it")
    func adopt() async throws {
        let blobs = try store()
        let writer = try blobs.incomingWriter()
        try await writer.append(.init(bytes: [1, 2, 3, 4]))
        writer.close()
        let reference = try await blobs.adopt(writer.path)
        #expect(reference.size == 4)
        #expect(reference.md5 == MD5Digest.hex([1, 2, 3, 4]))
        #expect(!FileManager.default.fileExists(atPath: writer.path))
        do {
            _ = try await blobs.adopt(blobs.incomingPath())
            Issue.record("adopting a file that does not exist must fail")
        } catch {
            #expect(error.code == .cannotWriteFile)
        }
    }

    @Test("A scan finds blobs, incoming files and ignores the rest; only folders changed since a time")
    func scan() async throws {
        let blobs = try store()
        let reference = try await blobs.write([9, 9])
        _ = FileManager.default.createFile(atPath: blobs.incomingPath(), contents: Data([1]))
        let leaves = try await blobs.leafFolders(changedAfter: nil)
        #expect(leaves.count == 1)
        let files = try await blobs.files(in: leaves[0])
        #expect(files.map(\.kind) == [.blob(reference.id)])
        #expect(try await blobs.files(in: blobs.incomingFolder).map(\.kind) == [.incoming])
        #expect(try await blobs.leafFolders(changedAfter: Int64(Date().timeIntervalSince1970) + 60).isEmpty)
    }
}
