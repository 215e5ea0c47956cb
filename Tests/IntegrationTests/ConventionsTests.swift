import Foundation
import Testing

extension ClusterTests {
    /// Orthanc's HTTP conventions and the slice order side by side with stock Orthanc (Tests/tools/conventions_compare.py):
    /// XML answers, instance metadata (PixelDataOffset, IndexInSeries, TransferSyntax), `X-HTTP-Method-Override` and
    /// `?_method=`, `/series/{id}/ordered-slices`, multipart and gzip uploads.
    @Suite("HTTP conventions and slice order at Orthanc fidelity", .serialized)
    struct ConventionsTests {
        let environment: TestEnvironment

        init() throws {
            environment = try TestEnvironment.load()
        }

        @Test("XML answers, method faking, ordered slices, multipart and gzip uploads answer what stock Orthanc answers")
        func sideBySide() async throws {
            try await IsolatedStack.with(environment, name: "conventions", apiPort: 18454, indexerMetricsPort: 19458) { stack in
                let set = try await TestDicomSet.make(environment, count: 8, seed: TestDicomSet.freshSeed(), patients: 1, studies: 2,
                                                      series: 2, size: 16)
                // Every fixture file: character sets, big endian, files without meta header, multi-frame, JPEG, RLE...
                let folder = environment.repository + "/Tests/UnitTests/Fixtures/tags"
                let fixtures = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".dcm") }.sorted()
                    .map { folder + "/" + $0 }
                let report = try await environment.tool("conventions_compare.py", ["--api", stack.api.baseURL]
                                                        + set.entries.map(\.File) + fixtures)
                #expect(report["compared"] as? Int ?? 0 >= 120, "\(report)")
                #expect((report["different"] as? [[String: String]] ?? []).isEmpty, "answers differ from stock Orthanc's: \(report["different"] ?? [])")
                // What a user sees, on our side alone.
                let statuses = report["statuses"] as? [String: Int] ?? [:]
                #expect(statuses["override-delete"] == 200 && statuses["query-method"] == 200 && statuses["override-get"] == 400)
                #expect(statuses["multipart-two-files"] == 200 && statuses["gzip"] == 200 && statuses["multipart-text-part"] == 400)
            }
        }
    }
}
