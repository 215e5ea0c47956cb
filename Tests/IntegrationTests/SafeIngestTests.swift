import Crypto
import Events
import Foundation
import Logging
import Model
import Testing

extension ClusterTests {
    /// No acknowledged instance is lost and no event stops indexing: replays, poison events and lost events, over real
    /// processes (each test on a stack of its own: database, topic, storage, indexer, API).
    @Suite("Safe ingest", .serialized)
    struct SafeIngestTests {
        let environment: TestEnvironment
        let logger = Logger(label: "test.safe-ingest")

        init() throws {
            environment = try TestEnvironment.load()
        }

        func bytes(_ path: String) throws -> [UInt8] {
            [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        }

        func md5(_ bytes: [UInt8]) -> String {
            Insecure.MD5.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
        }

        /// The sum of a Prometheus counter over its label values, on an operations endpoint.
        func counter(_ name: String, at endpoint: RESTClient) async throws -> Double {
            let text = String(decoding: try await endpoint.get("/metrics").body, as: UTF8.self)
            return text.split(separator: "\n").filter { $0.hasPrefix(name + "{") || $0.hasPrefix(name + " ") }
                .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }.reduce(0, +)
        }

        /// Where a blob lives in a stack's storage.
        func blobPath(_ stack: IsolatedStack, _ id: BlobID) -> String {
            "\(stack.storage)/\(id.value.prefix(2))/\(id.value.dropFirst(2).prefix(2))/\(id.value)"
        }

        /// Writes `bytes` as a blob of the stack's storage, dated `age` ago.
        func plantBlob(_ stack: IsolatedStack, _ bytes: [UInt8], age: TimeInterval = 0) throws -> BlobID {
            let id = BlobID.generate()
            let path = blobPath(stack, id)
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
            if age > 0 {
                try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -age)], ofItemAtPath: path)
            }
            return id
        }

        @Test("Events re-read from the start (a new consumer group) change nothing: the newer copy stays, deleted stays deleted")
        func replays() async throws {
            let seed = TestDicomSet.freshSeed()
            let original = try await TestDicomSet.make(environment, count: 3, seed: seed, patients: 1, studies: 1, series: 1, size: 32)
            let newer = try await TestDicomSet.make(environment, count: 1, seed: seed, patients: 1, studies: 1, series: 1, size: 48)
            try await IsolatedStack.with(environment, name: "tessera_replays", apiPort: 18060, indexerMetricsPort: 19120,
                                         json: #"{"OverwriteInstances": true}"#) { stack in
                let api = stack.api
                for entry in original.entries {
                    #expect(try await api.post("/instances", body: try bytes(entry.File)).status == 200)
                }
                let replaced = try #require(newer.entries.first)
                #expect(replaced.ID == original.entries[0].ID, "same UIDs, other bytes")
                #expect(try await api.post("/instances", body: try bytes(replaced.File)).status == 200)
                let deleted = original.entries[1]
                #expect(try await api.send("DELETE", "/instances/\(deleted.ID)").status == 200)

                // The indexer dies; a new one in a new consumer group reads all four events again, oldest first.
                _ = await stack.stop("indexer")
                try stack.startIndexer(extra: ["TESSERA_KAFKA_GROUP": stack.name + "-replay"])
                let deadline = ContinuousClock.now + .seconds(90)
                while (try? await counter("tessera_indexer_instances_total", at: stack.indexerMetrics)) ?? 0 < 4,
                      ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(300))
                }
                #expect(try await counter("tessera_indexer_instances_total", at: stack.indexerMetrics) >= 4)

                let file = try await api.get("/instances/\(replaced.ID)/file")
                #expect(file.status == 200, "the live copy must survive its replays")
                #expect(file.body == (try bytes(replaced.File)), "the newer copy stays")
                #expect(try await api.send("POST", "/instances/\(replaced.ID)/attachments/dicom/verify-md5").status == 200)
                #expect(try await api.get("/instances/\(deleted.ID)").status == 404, "a replay must not bring a deleted instance back")
                #expect(Set(try await api.json("/instances", as: [String].self)) == [original.entries[0].ID, original.entries[2].ID])
                for id in try await api.json("/instances", as: [String].self) {
                    #expect(try await api.get("/instances/\(id)/file").status == 200)
                }

                // The modality sends the deleted instance again: a real new copy is stored.
                let again = try await api.post("/instances", body: try bytes(deleted.File))
                #expect(again.status == 200)
                #expect((try again.json() as? [String: Any])?["Status"] as? String == "Success")
                #expect(try await api.get("/instances/\(deleted.ID)/file").body == (try bytes(deleted.File)))
            }
        }

        @Test("Poison events go to the dead letters with their reason, and indexing goes on")
        func poisonEvents() async throws {
            let fixture = environment.repository + "/Tests/UnitTests/Fixtures/tags/CT_small.dcm"
            let valid = environment.repository + "/Tests/UnitTests/Fixtures/tags/MR_small_RLE.dcm"
            try await IsolatedStack.with(environment, name: "tessera_poison", apiPort: 18061, indexerMetricsPort: 19121) { stack in
                let producer = try KafkaProducer(bootstrapServers: environment.kafkaBrokers, topic: stack.name, partitions: 8,
                                                 deliveryTimeoutMilliseconds: 15_000, logger: logger)
                let ids = try InstanceIdentifiers(patientID: "POISON", studyInstanceUID: "1.2.99", seriesInstanceUID: "1.2.99.1",
                                                  sopInstanceUID: "1.2.99.1.1")
                let summary = InstanceSummary(identifiers: ids, patientTags: ["PatientID": "POISON"], studyTags: [:], seriesTags: [:],
                                              instanceTags: [:], sopClassUID: nil, transferSyntaxUID: nil, indexInSeries: nil)
                func event(blob: BlobID, summary: InstanceSummary) throws -> [UInt8] {
                    try InstanceStoredEvent(StoredInstance(summary: summary, fileUUID: blob, fileSize: 1, fileMD5: nil, origin: "Test",
                                                           remoteAET: nil, calledAET: nil, remoteIP: nil, receptionDate: Date())).encoded()
                }
                let missing = try event(blob: BlobID.generate(), summary: summary)
                let traversal = Array(String(decoding: missing, as: UTF8.self)
                    .replacingOccurrences(of: #""fileUUID":"[0-9a-f-]+""#, with: #""fileUUID":"../../../../etc/passwd""#,
                                          options: .regularExpression).utf8)
                let unknownVersion = Array(String(decoding: missing, as: UTF8.self)
                    .replacingOccurrences(of: #""version":2"#, with: #""version":99"#).utf8)
                // An identifier no PostgreSQL index can hold (random, so that compression cannot shrink it), on a real blob.
                let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
                let huge = String((0..<6_000).map { _ in alphabet.randomElement()! })
                let tooLong = try InstanceIdentifiers(patientID: huge, studyInstanceUID: "1.2.98", seriesInstanceUID: "1.2.98.1",
                                                      sopInstanceUID: "1.2.98.1.1")
                var longSummary = summary
                longSummary.identifiers = tooLong
                longSummary.patientTags = ["PatientID": huge]
                let refused = try event(blob: try plantBlob(stack, try bytes(fixture)), summary: longSummary)
                try await withThrowingTaskGroup(of: Void.self) { tasks in
                    tasks.addTask { try await producer.run() }
                    for payload in [Array("garbage".utf8), traversal, unknownVersion, missing, refused] {
                        guard case .delivered = await producer.send(key: "1.2.99", payload: payload) else {
                            Issue.record("a poison event was not delivered")
                            return
                        }
                    }
                    tasks.cancelAll()
                }
                // Indexing is not blocked: a valid upload right behind them is indexed.
                let upload = try await stack.api.post("/instances", body: try bytes(valid))
                #expect(upload.status == 200)
                let deadline = ContinuousClock.now + .seconds(60)
                var letters: [[String: Any]] = []
                while ContinuousClock.now < deadline {
                    letters = (try await stack.api.json("/tessera/dead-letters")["DeadLetters"] as? [[String: Any]]) ?? []
                    if letters.count >= 5 { break }
                    try await Task.sleep(for: .milliseconds(300))
                }
                let reasons = letters.compactMap { $0["Reason"] as? String }.sorted()
                #expect(reasons == ["missing-blob", "rejected-by-index", "undecodable-event", "undecodable-event", "unknown-event-version"])
                #expect(try await stack.indexerMetrics.get("/health").status == 200, "the indexer is alive")
                #expect(try await counter("tessera_indexer_dead_letters_total", at: stack.indexerMetrics) == 5)
                let garbage = try #require(letters.first { ($0["PayloadSize"] as? Int) == 7 }?["ID"] as? Int)
                #expect(try await stack.api.get("/tessera/dead-letters/\(garbage)/payload").body == Array("garbage".utf8))
                #expect(try await stack.api.send("DELETE", "/tessera/dead-letters/\(garbage)").status == 200)
                #expect(try await stack.api.json("/tessera/dead-letters")["Count"] as? Int == 4)
                #expect(FileManager.default.fileExists(atPath: "/etc/passwd"), "an event cannot name a path")
            }
        }

        @Test("The reconciler indexes a blob whose event was lost, removes stale incoming files, dead-letters a non-DICOM blob")
        func reconciler() async throws {
            let fixture = environment.repository + "/Tests/UnitTests/Fixtures/tags/CT_small.dcm"
            let expectedID = "f689ddd2-662f8fe1-8b18180d-ec2a2cee-937917af"
            try await IsolatedStack.with(environment, name: "tessera_reconcile", apiPort: 18062, indexerMetricsPort: 19122,
                                         extra: ["TESSERA_RECONCILE_GRACE": "2", "TESSERA_RECONCILE_INTERVAL": "1"]) { stack in
                let content = try bytes(fixture)
                let lost = try plantBlob(stack, content, age: 30)
                let junk = try plantBlob(stack, Array("not a DICOM file".utf8), age: 30)
                let stale = stack.storage + "/.incoming/stale.tmp"
                let fresh = stack.storage + "/.incoming/fresh.tmp"
                #expect(FileManager.default.createFile(atPath: stale, contents: Data([1])))
                try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -3_600)], ofItemAtPath: stale)
                #expect(FileManager.default.createFile(atPath: fresh, contents: Data([2])))
                let api = stack.api
                let deadline = ContinuousClock.now + .seconds(60)
                while try await api.get("/instances/\(expectedID)").status != 200 && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(300))
                }
                let record = try await api.json("/instances/\(expectedID)")
                #expect(record["FileUuid"] as? String == lost.value)
                #expect(String(decoding: try await api.get("/instances/\(expectedID)/metadata/Origin").body, as: UTF8.self) == "Unknown")
                #expect(String(decoding: try await api.get("/instances/\(expectedID)/attachments/dicom/md5").body, as: UTF8.self) == md5(content))
                #expect(!FileManager.default.fileExists(atPath: stale), "a stale incoming file is removed")
                #expect(FileManager.default.fileExists(atPath: fresh), "a recent incoming file may still be written")
                let letters = (try await api.json("/tessera/dead-letters")["DeadLetters"] as? [[String: Any]]) ?? []
                #expect(letters.contains { $0["Reason"] as? String == "not-dicom" && $0["FileUuid"] as? String == junk.value })
                #expect(FileManager.default.fileExists(atPath: blobPath(stack, junk)), "a blob that is not DICOM is left for an operator")
                // Indexed exactly once, however many passes ran.
                try await Task.sleep(for: .seconds(3))
                let changes = try await api.json("/changes?limit=1000")["Changes"] as? [[String: Any]] ?? []
                #expect(changes.filter { $0["ChangeType"] as? String == "NewInstance" }.count == 1)
            }
        }
    }
}
