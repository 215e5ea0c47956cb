import Foundation
import Model
import Storage
import Testing

@Suite("Blob store")
struct BlobStoreTests {
    private func store() throws -> BlobStore {
        try BlobStore(root: FileManager.default.temporaryDirectory.appendingPathComponent("tessera-blobs-\(UUID().uuidString)").path)
    }

    @Test("Write, read back, Orthanc's two-level layout, no temporary file left")
    func roundTrip() async throws {
        let blobs = try store()
        let bytes = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let reference = try await blobs.write(bytes)
        #expect(reference.size == bytes.count)
        #expect(try await blobs.read(reference.uuid) == bytes)
        let path = blobs.path(of: reference.uuid)
        let uuid = Array(reference.uuid)
        #expect(path == "\(blobs.root)/\(String(uuid[0..<2]))/\(String(uuid[2..<4]))/\(reference.uuid)")
        let folder = (path as NSString).deletingLastPathComponent
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == [reference.uuid])
    }

    @Test("Concurrent writes each get their own blob")
    func concurrent() async throws {
        let blobs = try store()
        let references = try await withThrowingTaskGroup(of: BlobReference.self) { group in
            for index in 0..<32 {
                group.addTask { try await blobs.write([UInt8](repeating: UInt8(index), count: 1000 + index)) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(Set(references.map(\.uuid)).count == 32)
        for reference in references {
            let bytes = try await blobs.read(reference.uuid)
            #expect(bytes.count == reference.size)
            #expect(Set(bytes).count == 1)
        }
    }

    @Test("Remove is idempotent; reading a missing blob is an inexistent-file error")
    func remove() async throws {
        let blobs = try store()
        let reference = try await blobs.write([1, 2, 3])
        try await blobs.remove(reference.uuid)
        try await blobs.remove(reference.uuid)
        #expect(!blobs.exists(reference.uuid))
        do {
            _ = try await blobs.read(reference.uuid)
            Issue.record("reading a removed blob must fail")
        } catch {
            #expect(error.code == .inexistentFile)
        }
    }
}
