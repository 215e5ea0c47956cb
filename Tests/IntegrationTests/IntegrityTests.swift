import Crypto
import Foundation
import Testing

extension ClusterTests {
    /// MD5s stored at ingest, checked against the bytes on storage: checks that can fail.
    @Suite("Stored file integrity", .serialized)
    struct IntegrityTests {
        let environment: TestEnvironment

        init() throws {
            environment = try TestEnvironment.load()
        }

        @Test("C-STORE: the MD5 computed while the dataset is received and the stored file match the sent file, below, across and beyond the gateway's write blocks")
        func receivedDigests() async throws {
            try await checkReceived(api: RESTClient(baseURL: environment.apiURL), aeTitle: environment.dicomAET, port: environment.dicomPort)
        }

        @Test("C-STORE to storage on tmpfs (not ext4 or XFS, so no direct writes): the same bytes and MD5")
        func receivedDigestsWithoutDirectWrites() async throws {
            let mounts = try String(contentsOfFile: "/proc/self/mounts", encoding: .utf8).split(separator: "\n").map { $0.split(separator: " ") }
            try #require(mounts.contains { $0.count > 2 && $0[1] == "/dev/shm" && $0[2] == "tmpfs" }, "/dev/shm is a tmpfs")
            let storage = "/dev/shm/tessera-integrity-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: storage, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: storage) }
            try await IsolatedStack.with(environment, name: "tessera_tmpfs", apiPort: 18081, indexerMetricsPort: 19153,
                                         extra: ["TESSERA_STORAGE_DIR": storage]) { stack in
                try await stack.startGateway(port: 14252, metricsPort: 19154, aeTitle: "TMPFS")
                try await checkReceived(api: stack.api, aeTitle: "TMPFS", port: 14252)
                #expect(FileManager.default.fileExists(atPath: storage + "/.incoming"), "the stack stored on tmpfs")
            }
        }

        /// Sends generated instances of 64x64 (one block), 181x181 (just past the 64 KB first block), 512x512 and
        /// 700x700 (direct blocks and an unaligned tail) to the gateway at `port`; checks the bytes stored and the MD5.
        private func checkReceived(api: RESTClient, aeTitle: String, port: Int) async throws {
            for size in [64, 181, 512, 700] {
                let set = try await TestDicomSet.make(environment, count: 1, seed: TestDicomSet.freshSeed(), size: size)
                let sent = try #require(set.entries.first)
                let outcome = try await ProcessRunner.run("storescu", ["-v", "-aec", aeTitle, "-aet", "TESTSCU", "127.0.0.1", String(port), sent.File],
                                                          environment: ["TCP_NODELAY": "1"], timeout: .seconds(120))
                #expect(StoreSCU.successes(outcome) == 1, "\(outcome.output.suffix(500))")
                _ = try await api.waitForInstances([sent.ID], seconds: 60)
                let content = [UInt8](try Data(contentsOf: URL(fileURLWithPath: sent.File)))
                let stored = try await api.get("/instances/\(sent.ID)/file").body
                // The gateway writes its own meta header, then the dataset as it arrived.
                #expect(stored.count > content.count / 2 && Array(stored.suffix(content.count - 1024)) == Array(content.suffix(content.count - 1024)),
                        "size \(size): dataset bytes as sent")
                let expected = Insecure.MD5.hash(data: stored).map { String(format: "%02x", $0) }.joined()
                #expect(String(decoding: try await api.get("/instances/\(sent.ID)/attachments/dicom/md5").body, as: UTF8.self) == expected,
                        "size \(size)")
                #expect(try await api.send("POST", "/instances/\(sent.ID)/attachments/dicom/verify-md5").status == 200)
            }
        }

        @Test("The MD5 is stored at ingest; verify-md5 and the scrub command catch a file changed on disk")
        func md5AndScrub() async throws {
            let fixture = environment.repository + "/Tests/UnitTests/Fixtures/tags/CT_small.dcm"
            let content = [UInt8](try Data(contentsOf: URL(fileURLWithPath: fixture)))
            try await IsolatedStack.with(environment, name: "tessera_integrity", apiPort: 18072, indexerMetricsPort: 19144) { stack in
                let api = stack.api
                let uploaded = try await api.post("/instances", body: content)
                let id = try #require((try uploaded.json() as? [String: Any])?["ID"] as? String)
                let expected = Insecure.MD5.hash(data: content).map { String(format: "%02x", $0) }.joined()
                #expect(String(decoding: try await api.get("/instances/\(id)/attachments/dicom/md5").body, as: UTF8.self) == expected)
                let stored: String? = try await stack.withClient { client, logger in
                    for try await md5 in try await client.query("SELECT file_md5 FROM instances", logger: logger).decode(String?.self) {
                        return md5
                    }
                    return nil
                }
                #expect(stored == expected, "stored at ingest, not computed when asked")
                let verified = try await api.send("POST", "/instances/\(id)/attachments/dicom/verify-md5")
                #expect(verified.status == 200)
                #expect(String(decoding: verified.body, as: UTF8.self).filter { !$0.isWhitespace } == "{}")
                let scrubEnvironment = stack.shared.merging(["TESSERA_METRICS_PORT": "19145"]) { $1 }
                let clean = try await ProcessRunner.run(environment.binaries + "/tessera-indexer", ["scrub"], environment: scrubEnvironment)
                #expect(clean.status == 0, "\(clean.output.suffix(500))")

                // A byte flipped on disk.
                let uuid = try #require(try await api.json("/instances/\(id)")["FileUuid"] as? String)
                let path = "\(stack.storage)/\(uuid.prefix(2))/\(uuid.dropFirst(2).prefix(2))/\(uuid)"
                var damaged = content
                damaged[damaged.count / 2] ^= 0xFF
                try Data(damaged).write(to: URL(fileURLWithPath: path))
                let mismatch = try await api.send("POST", "/instances/\(id)/attachments/dicom/verify-md5")
                #expect(mismatch.status == 400, "as Orthanc: 400 when the file no longer matches its MD5")
                let scrub = try await ProcessRunner.run(environment.binaries + "/tessera-indexer", ["scrub"], environment: scrubEnvironment)
                #expect(scrub.status == 1, "\(scrub.output.suffix(500))")
                #expect(scrub.output.contains("mismatch instance=\(id) blob=\(uuid)"), "\(scrub.output.suffix(500))")
                // A file gone.
                try FileManager.default.removeItem(atPath: path)
                let gone = try await ProcessRunner.run(environment.binaries + "/tessera-indexer", ["scrub"], environment: scrubEnvironment)
                #expect(gone.output.contains("missing instance=\(id)"), "\(gone.output.suffix(500))")
            }
        }
    }
}
