import DICOM
import Foundation
import Model
import Testing

extension ClusterTests {
    /// C-STORE → shared storage → broker → indexer → PostgreSQL → REST, over the processes `scripts/cluster up` started.
    @Suite("End to end over the running cluster", .serialized)
    struct EndToEndTests {
        let environment: TestEnvironment
        let api: RESTClient

        init() throws {
            environment = try TestEnvironment.load()
            api = RESTClient(baseURL: environment.apiURL)
        }

        func storescu(_ files: [String]) async throws -> ProcessRunner.Outcome {
            try await StoreSCU(environment: environment).send(files)
        }

        func waitForIndexed(_ ids: Set<String>, seconds: Int = 90) async throws -> Set<String> {
            try await api.waitForInstances(ids, seconds: seconds)
        }

        static func successes(_ outcome: ProcessRunner.Outcome) -> Int {
            StoreSCU.successes(outcome)
        }

        /// The dataset of a Part-10 file: what travels in a C-STORE (the meta header is rebuilt by the receiver).
        static func dataset(of file: [UInt8]) -> ArraySlice<UInt8>? {
            guard file.count > 144, file[128..<132].elementsEqual("DICM".utf8),
                  file[132] == 0x02, file[133] == 0x00, file[134] == 0x00, file[135] == 0x00 else { return nil }
            let length = Int(file[140]) | Int(file[141]) << 8 | Int(file[142]) << 16 | Int(file[143]) << 24
            let start = 144 + length
            return start <= file.count ? file[start...] : nil
        }

        @Test("20 files over 2 associations: all listed under Orthanc's IDs, files identical to what was sent")
        func storeTwentyOverTwoAssociations() async throws {
            let set = try await TestDicomSet.make(environment, count: 20, seed: Int.random(in: 10_000...99_999))
            #expect(set.entries.count == 20)
            let halves = [Array(set.entries[0..<10]), Array(set.entries[10..<20])]
            let outcomes = try await withThrowingTaskGroup(of: ProcessRunner.Outcome.self) { group in
                for half in halves {
                    group.addTask { try await storescu(half.map(\.File)) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            for outcome in outcomes {
                #expect(outcome.status == 0, "storescu failed: \(outcome.output)")
                #expect(!outcome.output.contains("E: "), "storescu reported an error: \(outcome.output)")
                #expect(Self.successes(outcome) == 10, "each C-STORE must be answered Success: \(outcome.output)")
            }

            let expected = Set(set.entries.map(\.ID))
            let listed = try await waitForIndexed(expected)
            #expect(expected.isSubset(of: listed), "missing: \(expected.subtracting(listed))")

            for entry in set.entries {
                let answer = try await api.get("/instances/\(entry.ID)")
                #expect(answer.status == 200)
                let json = try #require(try answer.json() as? [String: Any])
                #expect(json["ID"] as? String == entry.ID)
                #expect(json["Type"] as? String == "Instance")
                #expect(json["ParentSeries"] as? String == entry.ParentSeries)
                let tags = try #require(json["MainDicomTags"] as? [String: String])
                #expect(tags["SOPInstanceUID"] == entry.SOPInstanceUID)

                let file = try await api.get("/instances/\(entry.ID)/file")
                #expect(file.status == 200)
                #expect(file.header("Content-Type") == "application/dicom")
                #expect(json["FileSize"] as? Int == file.body.count)
                let sent = try [UInt8](Data(contentsOf: URL(fileURLWithPath: entry.File)))
                let sentDataset = try #require(Self.dataset(of: sent))
                let storedDataset = try #require(Self.dataset(of: file.body), "the stored file is not Part-10")
                #expect(storedDataset.elementsEqual(sentDataset), "dataset of \(entry.ID) differs from what was sent")
                let parsed = try DicomFile(bytes: file.body)
                #expect(parsed.metaHeader.string(DicomTag(0x0002, 0x0003)) == entry.SOPInstanceUID)
            }
        }

        @Test("Sending the same instance again keeps one copy (Success, listed once)")
        func duplicate() async throws {
            let set = try await TestDicomSet.make(environment, count: 2, seed: Int.random(in: 100_000...999_999))
            let first = try await storescu(set.entries.map(\.File))
            #expect(first.status == 0)
            _ = try await waitForIndexed(Set(set.entries.map(\.ID)))
            let again = try await storescu(set.entries.map(\.File))
            #expect(again.status == 0)
            #expect(Self.successes(again) == 2, "a duplicate is answered Success, as Orthanc does: \(again.output)")
            let answer = try await api.get("/instances")
            let ids = try #require(try answer.json() as? [String])
            for entry in set.entries {
                #expect(ids.filter { $0 == entry.ID }.count == 1)
            }
        }

        @Test("A dataset without StudyInstanceUID gets 0xC000 and the gateway keeps serving")
        func badDataset() async throws {
            let bad = try await TestDicomSet.make(environment, count: 1, seed: Int.random(in: 1_000_000...9_999_999),
                                                  omitting: ["StudyInstanceUID"])
            let outcome = try await storescu(bad.entries.map(\.File))
            #expect(outcome.output.contains("Received Store Response (Error: CannotUnderstand)"),
                    "expected status 0xC000, storescu said: \(outcome.output)")
            #expect(Self.successes(outcome) == 0)

            try await EchoSCU.echo(host: "127.0.0.1", port: environment.dicomPort, callingAET: "TESTSCU",
                                   calledAET: environment.dicomAET, timeoutSeconds: 10)
            let good = try await TestDicomSet.make(environment, count: 1, seed: Int.random(in: 1_000_000...9_999_999))
            #expect(Self.successes(try await storescu(good.entries.map(\.File))) == 1)
            let listed = try await waitForIndexed(Set(good.entries.map(\.ID)))
            #expect(listed.contains(good.entries[0].ID))
        }

        @Test("C-ECHO to a port where nothing listens fails with a clear error, within the timeout")
        func echoFailure() async throws {
            do {
                try await EchoSCU.echo(host: "127.0.0.1", port: 1, callingAET: "TESTSCU", calledAET: "NOBODY", timeoutSeconds: 5)
                Issue.record("C-ECHO to a closed port succeeded")
            } catch {
                #expect(error.code == .networkProtocol)
            }
        }

        @Test("REST errors in Orthanc's shapes")
        func restErrors() async throws {
            let unknownID = try await api.get("/instances/00000000-00000000-00000000-00000000-00000000")
            #expect(unknownID.status == 404)
            let badID = try await api.get("/instances/not-an-id/file")
            #expect(badID.status == 404)
            let unknownRoute = try await api.get("/no-such-route")
            #expect(unknownRoute.status == 404)
            let body = try #require(try unknownRoute.json() as? [String: Any])
            #expect(body["OrthancStatus"] as? Int == 17)
            #expect(body["HttpError"] as? String == "Not Found")
            #expect(body["Uri"] as? String == "/no-such-route")
            let badLimit = try await api.get("/instances?limit=abc")
            #expect(badLimit.status == 400)
            let limitBody = try #require(try badLimit.json() as? [String: Any])
            #expect(limitBody["HttpStatus"] as? Int == 400)
            #expect(limitBody["Method"] as? String == "GET")
        }

        @Test("GET /system reports the Orthanc API level and Tessera's version; services expose metrics")
        func systemAndMetrics() async throws {
            let system = try #require(try await api.get("/system").json() as? [String: Any])
            #expect(system["DicomAet"] as? String == environment.dicomAET)
            #expect(system["DicomPort"] as? Int == environment.dicomPort)
            #expect((system["Version"] as? String)?.hasPrefix("1.12") == true)
            #expect(system["ApiVersion"] as? Int != nil)
            #expect(system["TesseraVersion"] as? String != nil)
            let metrics = try await api.get("/metrics")
            #expect(metrics.status == 200)
            #expect(String(decoding: metrics.body, as: UTF8.self).contains("tessera_http_requests_total{route="))
            #expect(try await api.get("/health").status == 200)
            #expect(try await api.get("/ready").status == 200)
        }

        @Test("Expanded list and paging")
        func expandAndPaging() async throws {
            let all = try #require(try await api.get("/instances").json() as? [String])
            #expect(!all.isEmpty)
            let page = try #require(try await api.get("/instances?since=0&limit=1").json() as? [String])
            #expect(page == [all[0]])
            let expanded = try #require(try await api.get("/instances?expand&since=0&limit=2").json() as? [[String: Any]])
            #expect(expanded.count == min(2, all.count))
            #expect(expanded.first?["ID"] as? String == all[0])
            #expect(expanded.first?["Type"] as? String == "Instance")
            // As Orthanc: paging takes both arguments.
            #expect(try await api.get("/instances?limit=2").status == 400)
            #expect(try await api.get("/instances?since=1").status == 400)
        }
    }
}
