import Foundation
import Testing

extension ClusterTests {
    /// Transcoding through DCMTK's codecs as Orthanc's built-in transcoder does: `Transcode` in modifications, archives
    /// and media (`?transcode=`, `"Transcode"`), `GET /instances/{id}/file?transcode=`, and `IngestTranscoding` at
    /// ingest (REST and C-STORE), compared with stock Orthanc 1.10.1 given the same files and options.
    @Suite("Transcoding at Orthanc fidelity", .serialized)
    struct TranscodingTests {
        let environment: TestEnvironment

        init() throws {
            environment = try TestEnvironment.load()
        }

        /// Files of scripts/make-image-dicom.py, by name.
        func images(_ names: [String]) async throws -> (folder: String, files: [String]) {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-transcode-\(UUID().uuidString)").path
            let made = try await ProcessRunner.run(environment.python, [environment.repository + "/scripts/make-image-dicom.py", "--out", folder],
                                                   timeout: .seconds(120))
            let all = made.output.split(separator: "\n").map(String.init)
            return (folder, names.compactMap { name in all.first { $0.hasSuffix("/\(name).dcm") } })
        }

        func tool(_ script: String, _ arguments: [String]) async throws -> [String: Any] {
            try await environment.tool(script, arguments)
        }

        /// Files every target syntax can be compared on with stock Orthanc (neither signed sign-extended samples,
        /// which make DCMTK's JPEG-LS encoder abort Orthanc, nor samples above BitsStored, which its JPEG encoders
        /// silently drop).
        static let comparable = ["mono2_u8", "rgb", "mono1_u16_bs12", "jpeg_baseline_rgb", "jpeg_extended_bs12", "rle_rgb_multiframe",
                                 "palette16", "deflated_mono1", "bigendian_rgb", "mono2_multiframe", "mono2_u32", "pdf", "ybr_full"]

        @Test("POST /instances/{id}/modify with Transcode: every target syntax, the same file as stock Orthanc's (lossy JPEG included)")
        func modify() async throws {
            let (folder, files) = try await images(Self.comparable + ["mono2_u16_shift", "mono2_s16_bs12", "icon_wide"])
            defer { try? FileManager.default.removeItem(atPath: folder) }
            try await IsolatedStack.with(environment, name: "transcode_modify", apiPort: 18441, indexerMetricsPort: 19441) { stack in
                let comparable = files.filter { !$0.hasSuffix("/mono2_s16_bs12.dcm") && !$0.hasSuffix("/icon_wide.dcm") }
                let report = try await tool("modify_compare.py", ["--api", stack.api.baseURL, "--bodies",
                                                                  environment.repository + "/Tests/tools/transcode-bodies.json"] + comparable)
                #expect(report["compared"] as? Int ?? 0 >= comparable.count * 14, "\(report["compared"] ?? 0)")
                // Samples stored above BitsStored: Orthanc's JPEG encoders drop their high bits; Tessera refuses (500).
                // RLE: Orthanc's core has no encoder (500); Tessera writes it (its pixels are checked by fileRoute).
                let different = (report["different"] as? [[String: String]] ?? []).filter { difference in
                    !(difference["file"] == "mono2_u16_shift.dcm" && (difference["why"] ?? "").contains("the JPEG encoder would lose it"))
                        && !(difference["body"] == "transcode-rle" && (difference["why"] ?? "").hasPrefix("status 200 vs Orthanc's 500"))
                }
                #expect(different.isEmpty, "transcoded files differ from stock Orthanc's: \(different.prefix(10))")
                let statuses = report["statuses"] as? [String: [Int]] ?? [:]
                // Only the 32-bit image cannot be JPEG-LS (the PDF has no pixels to encode).
                #expect((statuses["transcode-jpeg-ls"] ?? []).filter { $0 == 200 }.count == comparable.count - 1,
                        "\(statuses["transcode-jpeg-ls"] ?? [])")
                #expect(statuses["transcode-unknown"]?.allSatisfy { $0 == 400 } == true)

                // Signed samples sign-extended over 16 bits abort DCMTK's JPEG-LS encoder (stock Orthanc dies): a clear
                // error here, and the API goes on serving.
                let signed = try #require(files.first { $0.hasSuffix("/mono2_s16_bs12.dcm") })
                let stored = try await stack.api.post("/instances", body: [UInt8](try Data(contentsOf: URL(fileURLWithPath: signed))))
                let id = try #require((try stored.json() as? [String: Any])?["ID"] as? String)
                let refused = try await stack.api.post("/instances/\(id)/modify", json: ["Transcode": "1.2.840.10008.1.2.4.80"])
                #expect(refused.status == 500 && refused.text.contains("beyond BitsStored"), "\(refused.status) \(refused.text)")
                #expect(try await stack.api.get("/system").status == 200)
                #expect(try await stack.api.post("/instances/\(id)/modify", json: ["Transcode": "1.2.840.10008.1.2.4.57"]).status == 200)
                // The same for samples too wide in an icon (a sequence item), which DCMTK encodes as well.
                let iconFile = try #require(files.first { $0.hasSuffix("/icon_wide.dcm") })
                let iconStored = try await stack.api.post("/instances", body: [UInt8](try Data(contentsOf: URL(fileURLWithPath: iconFile))))
                let iconID = try #require((try iconStored.json() as? [String: Any])?["ID"] as? String)
                let iconRefused = try await stack.api.post("/instances/\(iconID)/modify", json: ["Transcode": "1.2.840.10008.1.2.4.80"])
                #expect(iconRefused.status == 500 && iconRefused.text.contains("beyond BitsStored"), "\(iconRefused.status) \(iconRefused.text)")
                #expect(try await stack.api.get("/system").status == 200)
            }
        }

        @Test("Archives and media with transcode: the same entries as stock Orthanc's, each file re-encoded as Orthanc re-encodes it")
        func archives() async throws {
            let (folder, files) = try await images(Self.comparable)
            defer { try? FileManager.default.removeItem(atPath: folder) }
            try await IsolatedStack.with(environment, name: "transcode_archive", apiPort: 18442, indexerMetricsPort: 19442) { stack in
                let report = try await tool("transcode_compare.py", ["--api", stack.api.baseURL, "archives"] + files)
                #expect(report["compared"] as? Int ?? 0 >= 18 && report["checked"] as? Int ?? 0 >= 150, "\(report)")
                let different = report["different"] as? [[String: String]] ?? []
                #expect(different.isEmpty, "archives differ from stock Orthanc's: \(different.prefix(10))")
            }
        }

        @Test("GET /instances/{id}/file?transcode=: the file in the asked syntax with the same pixels, 400 for an unknown syntax, 500 when it cannot be written")
        func fileRoute() async throws {
            let (folder, files) = try await images(Self.comparable + ["mono2_u16_shift", "mono2_s16_bs12", "jpegls_u16"])
            defer { try? FileManager.default.removeItem(atPath: folder) }
            try await IsolatedStack.with(environment, name: "transcode_file", apiPort: 18443, indexerMetricsPort: 19443) { stack in
                let report = try await tool("transcode_compare.py", ["--api", stack.api.baseURL, "file"] + files)
                #expect(report["checked"] as? Int ?? 0 >= 50, "pixels checked: \(report["checked"] ?? 0)")
                let different = report["different"] as? [[String: String]] ?? []
                #expect(different.isEmpty, "\(different.prefix(10))")
            }
        }

        @Test("IngestTranscoding (JPEG-LS lossless; JPEG baseline): uploads and C-STOREs stored as stock Orthanc stores them")
        func ingest() async throws {
            let (folder, files) = try await images(Self.comparable + ["mono2_s16_bs12"])
            defer { try? FileManager.default.removeItem(atPath: folder) }
            for (index, syntax) in ["1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.50"].enumerated() {
                try await IsolatedStack.with(environment, name: "transcode_ingest\(index)", apiPort: 18444 + index,
                                             indexerMetricsPort: 19444 + index,
                                             json: "{\"IngestTranscoding\": \"\(syntax)\"}") { stack in
                    // The signed file cannot go to JPEG-LS (stored as received here; stock Orthanc would abort).
                    let uploaded = syntax.hasSuffix(".80") ? files.filter { !$0.hasSuffix("/mono2_s16_bs12.dcm") } : files
                    let report = try await tool("transcode_compare.py", ["--api", stack.api.baseURL, "ingest", syntax] + uploaded)
                    #expect(report["checked"] as? Int ?? 0 >= uploaded.count - 1, "\(report)")
                    let different = report["different"] as? [[String: String]] ?? []
                    #expect(different.isEmpty, "stored files differ from stock Orthanc's: \(different.prefix(10))")
                    let system = try await stack.api.json("/system")
                    #expect(system["IngestTranscoding"] as? String == syntax)
                    guard syntax.hasSuffix(".80") else { return }
                    let signed = try #require(files.first { $0.hasSuffix("/mono2_s16_bs12.dcm") })
                    let answer = try await stack.api.post("/instances", body: [UInt8](try Data(contentsOf: URL(fileURLWithPath: signed))))
                    let id = try #require((try answer.json() as? [String: Any])?["ID"] as? String)
                    #expect(try await stack.api.get("/instances/\(id)/metadata/TransferSyntax").text == "1.2.840.10008.1.2.1",
                            "stored as received when it cannot be re-encoded")
                    // C-STORE goes through the same ingest: the rgb file, deleted first, comes back through the gateway.
                    try await stack.startGateway(port: 14461, metricsPort: 19461)
                    let gatewayFile = try #require(files.first { $0.hasSuffix("/rgb.dcm") })
                    let sop = try await ProcessRunner.run(environment.python, ["-c", "import pydicom,sys; print(pydicom.dcmread(sys.argv[1]).SOPInstanceUID)", gatewayFile],
                                                          timeout: .seconds(30)).output.trimmingCharacters(in: .whitespacesAndNewlines)
                    let before = try await stack.api.post("/tools/lookup", body: Array(sop.utf8))
                    let previous = try #require((try before.json() as? [[String: Any]])?.first?["ID"] as? String, "\(before.text)")
                    #expect(try await stack.api.send("DELETE", "/instances/\(previous)").status == 200)
                    let outcome = try await ProcessRunner.run("storescu", ["-aec", "TESSERA", "-aet", "TESTSCU", "127.0.0.1", "14461", gatewayFile],
                                                              timeout: .seconds(60))
                    #expect(outcome.status == 0, "\(outcome.output)")
                    #expect(try await stack.api.waitForInstances([previous], seconds: 30).contains(previous))
                    let found = previous
                    #expect(try await stack.api.get("/instances/\(found)/metadata/TransferSyntax").text == syntax)
                }
            }
        }

        @Test("C-STORE to a modality that does not accept the stored syntax: decompressed, unless its AllowTranscoding is false")
        func modalityTranscoding() async throws {
            let (folder, files) = try await images(["jpegls_u16"])
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let json = """
                {"DicomModalities": {"plain": ["STORESCP", "127.0.0.1", 14462],
                                     "strict": {"AET": "STORESCP", "Host": "127.0.0.1", "Port": 14462, "AllowTranscoding": false}}}
                """
            try await IsolatedStack.with(environment, name: "transcode_scu", apiPort: 18446, indexerMetricsPort: 19447, json: json) { stack in
                try await stack.startWorker(metricsPort: 19448)
                // storescp's default: uncompressed syntaxes only.
                let received = try environment.temporaryFolder("storescp-uncompressed")
                stack.adopt("storescp", try ProcessRunner.start("storescp", ["-od", received, "-aet", "STORESCP", "14462"]))
                let file = try #require(files.first)
                let stored = try await stack.api.post("/instances", body: [UInt8](try Data(contentsOf: URL(fileURLWithPath: file))))
                let id = try #require((try stored.json() as? [String: Any])?["ID"] as? String)
                try await Task.sleep(for: .milliseconds(500))
                let plain = try await stack.api.post("/modalities/plain/store", json: ["Resources": [id]])
                #expect(plain.status == 200, "\(plain.text)")
                let names = try FileManager.default.contentsOfDirectory(atPath: received)
                let arrived = try #require(names.first.map { received + "/" + $0 }, "storescp received nothing")
                let syntax = try await ProcessRunner.run(environment.python, ["-c", "import pydicom,sys; print(pydicom.dcmread(sys.argv[1]).file_meta.TransferSyntaxUID)", arrived],
                                                         timeout: .seconds(30)).output.trimmingCharacters(in: .whitespacesAndNewlines)
                #expect(syntax == "1.2.840.10008.1.2.1" || syntax == "1.2.840.10008.1.2", "decompressed for the modality: \(syntax)")
                let strict = try await stack.api.post("/modalities/strict/store", json: ["Resources": [id]])
                #expect(strict.status != 200, "\(strict.status) \(strict.text)")
                #expect(strict.text.contains("transcoding is not allowed") || strict.text.contains("No valid presentation context"),
                        "\(strict.text)")
            }
        }
    }
}
