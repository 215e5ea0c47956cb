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

        @Test("XML answers, metadata, method faking, ordered slices, multipart and gzip uploads, log levels answer what stock Orthanc answers")
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
                // /tools/log-level reaches every process of the cluster, not only the API that answered: the indexer
                // applies it within seconds.
                let indexerLog = try #require(stack.log(of: "indexer"))
                func changes() -> Int {
                    ((try? String(contentsOfFile: indexerLog, encoding: .utf8)) ?? "").components(separatedBy: "Log verbosity changed").count
                }
                let before = changes()
                #expect(try await stack.api.send("PUT", "/tools/log-level", body: Array("trace".utf8)).status == 200)
                var applied = false
                for _ in 0..<50 where !applied {
                    try await Task.sleep(for: .milliseconds(200))
                    applied = changes() > before
                }
                #expect(applied, "the indexer applied the new verbosity")
                #expect(try await stack.api.send("PUT", "/tools/log-level", body: Array("default".utf8)).status == 200)
            }
        }

        /// The live differential harness (Tests/tools/rest_compare.py): every file of pydicom's test data, the generated
        /// image edge cases and 300 generated find files, on both sides; every read route of every instance and
        /// resource, then 240 generated `/tools/find` queries. Differences only as Tests/tools/rest-allowed.json lists.
        @Test("Every read route over pydicom's test data and generated files, and 240 generated finds, answer what stock Orthanc answers")
        func harness() async throws {
            let folder = try environment.temporaryFolder("harness")
            let images = try await ProcessRunner.run(environment.python, [environment.repository + "/scripts/make-image-dicom.py",
                                                                          "--out", folder + "/images"], timeout: .seconds(120))
            let finds = try await ProcessRunner.run(environment.python, [environment.repository + "/scripts/make-find-dicom.py",
                                                                         "--out", folder + "/finds", "--count", "300", "--jobs", "2"],
                                                    timeout: .seconds(300))
            #expect(images.status == 0 && finds.status == 0, "\(images.output.suffix(300)) \(finds.output.suffix(300))")
            var files = images.output.split(separator: "\n").map(String.init).filter { $0.hasSuffix(".dcm") }
            if let walker = FileManager.default.enumerator(atPath: folder + "/finds") {
                for case let path as String in walker where path.hasSuffix(".dcm") { files.append(folder + "/finds/" + path) }
            }
            #expect(files.count >= 340, "generated files: \(files.count)")
            try await IsolatedStack.with(environment, name: "harness", apiPort: 18455, indexerMetricsPort: 19459) { stack in
                let report = try await environment.tool("rest_compare.py", ["--api", stack.api.baseURL, "--allowed",
                                                                            environment.repository + "/Tests/tools/rest-allowed.json",
                                                                            "--pydicom"] + files.sorted())
                #expect(report["documents"] as? Int ?? 0 >= 3000 && report["queries"] as? Int ?? 0 >= 200, "\(report["documents"] ?? 0) documents")
                let different = report["different"] as? [[String: String]] ?? []
                print("rest_compare: \(report["documents"] ?? 0) documents and \(report["queries"] ?? 0) queries compared with "
                      + "Orthanc \(report["orthanc"] ?? "?"): \(different.count) differ, \(report["allowed"] ?? 0) allowed differences")
                #expect(different.isEmpty, "\(different.count) answers differ from stock Orthanc's: \(different.prefix(15))")
            }
        }
    }
}
