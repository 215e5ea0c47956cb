import Foundation
import Testing

extension ClusterTests {
    /// The decoded-image routes side by side with stock Orthanc 1.10.1 (Tests/tools/image_compare.py): preview,
    /// image-uint8/uint16/int16, rendered, matlab, numpy, raw frames and PDF of every file of pydicom's test data and
    /// of generated files (scripts/make-image-dicom.py), in PNG, JPEG and PAM. Differences are allowed only as listed,
    /// with their reason, in Tests/tools/image-allowed.json.
    @Suite("Decoded images at Orthanc fidelity", .serialized)
    struct ImageTests {
        let environment: TestEnvironment

        init() throws {
            environment = try TestEnvironment.load()
        }

        func compare(_ stack: IsolatedStack, _ arguments: [String]) async throws -> [String: Any] {
            try await environment.tool("image_compare.py", ["--api", stack.api.baseURL,
                                                            "--allowed", environment.repository + "/Tests/tools/image-allowed.json"] + arguments,
                                       timeout: .seconds(900))
        }

        @Test("Every file of pydicom's test data: every image route answers what stock Orthanc answers")
        func pydicomCorpus() async throws {
            try await IsolatedStack.with(environment, name: "images", apiPort: 18431, indexerMetricsPort: 19431) { stack in
                let report = try await compare(stack, ["--pydicom"])
                #expect(report["files"] as? Int ?? 0 >= 100, "files stored on both sides: \(report["files"] ?? 0)")
                #expect(report["compared"] as? Int ?? 0 >= 4000, "requests compared: \(report["compared"] ?? 0)")
                // JPEG 2000 (which Orthanc's core does not decode) checked against pydicom's decoding instead.
                #expect(report["referenced"] as? Int ?? 0 >= 5, "files checked against pydicom: \(report["referenced"] ?? 0)")
                let different = report["different"] as? [[String: String]] ?? []
                #expect(different.isEmpty, "answers differ from stock Orthanc's: \(different.prefix(15))")
                // What a viewer sees on a plain CT: a PNG preview, and Orthanc's 404 for a frame past the last.
                let statuses = report["statuses"] as? [String: [Int]] ?? [:]
                #expect(statuses["CT_small.dcm"]?.first == 200, "\(statuses["CT_small.dcm"] ?? [])")
            }
        }

        @Test("Generated edge cases (bit depths, shifts, signs, MONOCHROME1, planar, palettes, multi-frame, JPEG, JPEG-LS, RLE, big endian, deflate, PDF) and /series/{id}/numpy")
        func generatedCorpus() async throws {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-images-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let made = try await ProcessRunner.run(environment.python, [environment.repository + "/scripts/make-image-dicom.py", "--out", folder],
                                                   timeout: .seconds(120))
            let files = made.output.split(separator: "\n").map(String.init).filter { $0.hasSuffix(".dcm") }
            #expect(files.count >= 40, "\(made.output.suffix(500))")
            try await IsolatedStack.with(environment, name: "images_gen", apiPort: 18432, indexerMetricsPort: 19432) { stack in
                let report = try await compare(stack, ["--series"] + files)
                #expect(report["files"] as? Int == files.count, "files stored on both sides: \(report["files"] ?? 0)")
                #expect(report["referenced"] as? Int ?? 0 >= 4, "files checked against pydicom: \(report["referenced"] ?? 0)")
                let different = report["different"] as? [[String: String]] ?? []
                #expect(different.isEmpty, "answers differ from stock Orthanc's: \(different.prefix(15))")
                // Each allowed difference is still real (an entry that no longer differs is stale).
                let allowedFiles = Set((report["allowed"] as? [[String: String]] ?? []).compactMap { $0["file"] })
                #expect(allowedFiles.isSuperset(of: ["mono2_u16_bs8.dcm", "palette8.dcm", "ybr_full.dcm", "rgb48.dcm"]), "\(allowedFiles)")
                let statuses = report["statuses"] as? [String: [Int]] ?? [:]
                #expect(statuses["pdf.dcm"]?.last == 200, "the PDF document is served")
                #expect(statuses["jpegls_u16.dcm"]?.first == 200 && statuses["rle_s16.dcm"]?.first == 200)
            }
        }
    }
}
