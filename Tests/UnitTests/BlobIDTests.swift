import Foundation
import Model
import Testing

@Suite("Blob IDs")
struct BlobIDTests {
    @Test("Only UUIDs are blob IDs: paths, traversal and other text are refused")
    func validation() {
        #expect(BlobID(validating: "0194b1e6-2f3c-7a1b-8c4d-5e6f708192a3")?.value == "0194b1e6-2f3c-7a1b-8c4d-5e6f708192a3")
        #expect(BlobID(validating: "0194B1E6-2F3C-7A1B-8C4D-5E6F708192A3")?.value == "0194b1e6-2f3c-7a1b-8c4d-5e6f708192a3")
        for bad in ["../../etc/passwd", "/etc/passwd", "0194b1e6-2f3c-7a1b-8c4d-5e6f708192a", "0194b1e6-2f3c-7a1b-8c4d-5e6f708192a3/",
                    "0194b1e6x2f3c-7a1b-8c4d-5e6f708192a3", "0194b1e6-2f3c-7a1b-8c4d-5e6f708192g3", ""] {
            #expect(BlobID(validating: bad) == nil, "\(bad)")
        }
    }

    @Test("New IDs are version 7, carry their creation time and sort in creation order")
    func ordering() {
        let before = Int64(Date().timeIntervalSince1970 * 1000)
        let ids = (0..<5_000).map { _ in BlobID.generate() }
        let after = Int64(Date().timeIntervalSince1970 * 1000)
        #expect(ids.allSatisfy { $0.version == 7 })
        #expect(ids.allSatisfy { (before...after + 1).contains($0.timestampMilliseconds) })
        #expect(zip(ids, ids.dropFirst()).allSatisfy { $0 < $1 })
        #expect(zip(ids, ids.dropFirst()).allSatisfy { $0.value < $1.value })
        #expect(Set(ids).count == ids.count)
    }

    @Test("Older version-4 IDs order before every version-7 one")
    func legacy() throws {
        let legacy = try #require(BlobID(validating: "ffffffff-ffff-4fff-bfff-ffffffffffff"))
        #expect(legacy.timestampMilliseconds == 0)
        #expect(legacy < BlobID.generate())
    }

    @Test("Events refuse a blob ID that is not a UUID")
    func decoding() throws {
        let decoder = JSONDecoder()
        #expect(throws: DecodingError.self) { try decoder.decode([BlobID].self, from: Data(#"["../../../etc/passwd"]"#.utf8)) }
        #expect(try decoder.decode([BlobID].self, from: Data(#"["0194b1e6-2f3c-7a1b-8c4d-5e6f708192a3"]"#.utf8)).count == 1)
    }
}
