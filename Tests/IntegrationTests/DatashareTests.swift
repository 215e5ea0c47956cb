import Foundation
import Testing

extension ClusterTests {
    /// The gateway as the edge receiver of ../shared/seeds/edge-cstore-datashare.md: datashares selected by the called
    /// AE title, a substitute, or the calling AE title; unknown ones aborted; labels, metadata and disk budgets; and
    /// the run-time DICOM server settings (accepted transfer syntaxes, unknown SOP classes) on the same stack.
    @Suite("Edge receiver datashares", .serialized)
    struct DatashareTests {
        let environment: TestEnvironment

        init() throws {
            environment = try TestEnvironment.load()
        }

        static let gateway = 14411, metrics = 19413

        static let configuration = """
            {"DatashareMode": true,
             "Datashares": {"DS1": {}, "DS2": {"CalledAet": "EDGE2"}, "DS3": {"CallingAet": "PACS3", "DiskBudget": 1}}}
            """

        @Test("Datashares by called, substitute and calling AE title; unknown titles aborted; labels, metadata, REST CRUD, disk budget; a datashare larger than the memory budget received whole")
        func edgeReceiver() async throws {
            try await IsolatedStack.with(environment, name: "edge", apiPort: 18411, indexerMetricsPort: 19411,
                                         json: Self.configuration) { stack in
                try await stack.startGateway(port: Self.gateway, metricsPort: Self.metrics)
                let api = stack.api

                // The called AE title, a substitute called AE title, the calling AE title.
                let one = try await TestDicomSet.make(environment, count: 3, seed: TestDicomSet.freshSeed(), patients: 1, studies: 1)
                let two = try await TestDicomSet.make(environment, count: 2, seed: TestDicomSet.freshSeed(), patients: 1, studies: 1)
                #expect(try await store(one.entries.map(\.File), called: "DS1").status == 0)
                #expect(try await store(two.entries.map(\.File), called: "EDGE2").status == 0)
                #expect(try await api.waitForInstances(Set((one.entries + two.entries).map(\.ID)), seconds: 30).isSuperset(of: Set((one.entries + two.entries).map(\.ID))))
                #expect(try await studies(labeled: "DS1") == [one.entries[0].ParentStudy])
                #expect(try await studies(labeled: "DS2") == [two.entries[0].ParentStudy])
                let instance = one.entries[0].ID
                #expect(String(decoding: try await api.get("/instances/\(instance)/metadata/Datashare").body, as: UTF8.self) == "DS1")
                #expect(try await api.json("/instances/\(instance)/labels", as: [String].self) == ["DS1"])
                #expect(try await api.json("/patients/\(one.entries[0].ParentPatient)/labels", as: [String].self) == ["DS1"])

                // Titles that select no datashare: accepted, then aborted; nothing stored.
                let stray = try await TestDicomSet.make(environment, count: 1, seed: TestDicomSet.freshSeed())
                let refused = try await store(stray.entries.map(\.File), called: "NOSUCHSHARE")
                #expect(refused.output.contains("Association Accepted") && refused.output.contains("Peer Aborted Association"),
                        "\(refused.output)")
                try await Task.sleep(for: .seconds(1))
                #expect(try await api.get("/instances/\(stray.entries[0].ID)").status == 404)
                let gatewayMetrics = RESTClient(baseURL: "http://127.0.0.1:\(Self.metrics)")
                let exposition = String(decoding: try await gatewayMetrics.get("/metrics").body, as: UTF8.self)
                #expect(exposition.contains("tessera_datashare_aborted_associations_total"), "\(exposition)")
                #expect(exposition.contains("tessera_datashare_instances_total{datashare=\"DS1\"} 3"))

                // REST: a datashare declared at run time takes associations within seconds; removed, it aborts them.
                #expect(try await api.send("PUT", "/datashares/DS4", body: Array("{}".utf8)).status == 200)
                #expect(try await api.json("/datashares", as: [String].self) == ["DS1", "DS2", "DS3", "DS4"])
                #expect(try await api.json("/datashares/DS2/configuration") as NSDictionary == ["CalledAet": "EDGE2"] as NSDictionary)
                #expect(try await api.send("PUT", "/datashares/bad%20id", body: Array("{}".utf8)).status == 400)
                #expect(try await api.send("PUT", "/datashares/DS5", body: Array(#"{"CalledAet": "A", "CallingAet": "B"}"#.utf8)).status == 400)
                #expect(try await api.get("/datashares/NOPE/statistics").status == 404)
                let four = try await TestDicomSet.make(environment, count: 1, seed: TestDicomSet.freshSeed())
                try await Task.sleep(for: .seconds(3))
                #expect(try await store(four.entries.map(\.File), called: "DS4").status == 0)
                #expect(try await api.waitForInstances([four.entries[0].ID], seconds: 30).contains(four.entries[0].ID))
                #expect(try await studies(labeled: "DS4") == [four.entries[0].ParentStudy])
                #expect(try await api.send("DELETE", "/datashares/DS4").status == 200)
                try await Task.sleep(for: .seconds(3))
                #expect(try await store(four.entries.map(\.File), called: "DS4").output.contains("Peer Aborted Association"))

                // DS3 (selected by the calling AE title) holds 1 MB: past it, "out of resources", and it holds no more.
                let big = try await TestDicomSet.make(environment, count: 12, seed: TestDicomSet.freshSeed(), size: 256)
                let overBudget = try await ProcessRunner.run("storescu", ["-v", "-nh", "-aet", "PACS3", "-aec", "ANYTHING",
                                                                          "127.0.0.1", String(Self.gateway)] + big.entries.map(\.File))
                #expect(overBudget.output.contains("Refused: OutOfResources"), "\(overBudget.output)")
                #expect(overBudget.output.contains("Received Store Response (Success)"))
                try await Task.sleep(for: .seconds(3))
                let statistics = try await api.json("/datashares/DS3/statistics")
                let held = Int(statistics["DiskSize"] as? String ?? "") ?? -1
                #expect(held > 0 && held <= 1 << 20, "\(statistics)")
                #expect(statistics["DiskBudget"] as? String == String(1 << 20))

                // A datashare of ~300 MB (more than the gateway's parse memory budget of 256 MiB) is received whole,
                // through files: the gateway's peak memory stays far below it.
                let large = try await TestDicomSet.make(environment, count: 64, seed: TestDicomSet.freshSeed(), patients: 1,
                                                        studies: 1, series: 2, size: 1536)
                let sent = try await ProcessRunner.run("storescu", ["-aec", "DS1", "127.0.0.1", String(Self.gateway)]
                                                       + large.entries.map(\.File), timeout: .seconds(300))
                #expect(sent.status == 0, "\(sent.output)")
                let ids = Set(large.entries.map(\.ID))
                #expect(try await api.waitForInstances(ids, seconds: 120).isSuperset(of: ids))
                let labeled = try await api.post("/tools/find", json: ["Level": "Instance", "Query": [String: String](), "Labels": ["DS1"]])
                #expect(Set(try #require(try labeled.json() as? [String])).isSuperset(of: ids))
                let pid = try #require(stack.pid(of: "gateway"))
                let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
                let peak = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }
                    .flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? Int.max
                #expect(peak < 250 * 1024, "the gateway's peak resident memory (\(peak) kB) stays well below the 300 MB datashare")

                // Run-time settings of the DICOM server, as Orthanc's /tools routes, applied by the gateway within seconds.
                let syntaxes = try await api.json("/tools/accepted-transfer-syntaxes", as: [String].self)
                #expect(syntaxes.first == "1.2.840.10008.1.2.1" && syntaxes.count > 30)
                let narrowed = try await api.send("PUT", "/tools/accepted-transfer-syntaxes", body: Array(#"["1.2.840.10008.1.2.1"]"#.utf8))
                #expect(try narrowed.json() as? [String] == ["1.2.840.10008.1.2.1"])
                #expect(try await api.send("PUT", "/tools/accepted-transfer-syntaxes", body: Array("[3]".utf8)).status == 400)
                try await Task.sleep(for: .seconds(3))
                let implicitOnly = try await ProcessRunner.run("storescu", ["-xi", "-aec", "DS1", "127.0.0.1", String(Self.gateway),
                                                                            stray.entries[0].File])
                #expect(implicitOnly.status != 0, "implicit VR is no longer accepted: \(implicitOnly.output)")
                let widened = try await api.send("PUT", "/tools/accepted-transfer-syntaxes", body: Array("1.2.840.10008.1.*".utf8))
                #expect((try widened.json() as? [String])?.count == syntaxes.count)
                #expect(String(decoding: try await api.get("/tools/unknown-sop-class-accepted").body, as: UTF8.self) == "0")
                // An instance of a SOP class DCMTK does not know: refused until UnknownSopClassAccepted.
                let unknownClass = try environment.temporaryFolder("edge-unknown") + "/unknown.dcm"
                let written = try await ProcessRunner.run(environment.python, ["-c", """
                    import sys, pydicom
                    ds = pydicom.dcmread(sys.argv[1])
                    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = "1.2.826.0.1.3680043.8.498.77.1"
                    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = pydicom.uid.generate_uid()
                    ds.save_as(sys.argv[2])
                    """, stray.entries[0].File, unknownClass])
                #expect(written.status == 0, "\(written.output)")
                // (storescu refuses to send a SOP class it does not know: the hostile tool sends the file as it is.)
                let hostile = HostileTool(environment: environment)
                let storeUnknown = ["store", "--port", String(Self.gateway), "--aet", "DS1", "--files", unknownClass]
                let refusedUnknown = try await hostile.run(storeUnknown)
                #expect((refusedUnknown["statuses"] as? [Any])?.first is NSNull, "an unknown SOP class is refused by default: \(refusedUnknown)")
                #expect(try await api.send("PUT", "/tools/unknown-sop-class-accepted", body: Array("1".utf8)).status == 200)
                #expect(String(decoding: try await api.get("/tools/unknown-sop-class-accepted").body, as: UTF8.self) == "1")
                #expect(try await api.send("PUT", "/tools/unknown-sop-class-accepted", body: Array("maybe".utf8)).status == 400)
                try await Task.sleep(for: .seconds(3))
                #expect(try await store(stray.entries.map(\.File), called: "DS1", extra: ["-xi"]).status == 0)
                let acceptedUnknown = try await hostile.run(storeUnknown)
                #expect((acceptedUnknown["statuses"] as? [Int])?.first == 0, "UnknownSopClassAccepted: \(acceptedUnknown)")
            }
        }

        /// storescu to the gateway with this called AE title.
        func store(_ files: [String], called: String, extra: [String] = []) async throws -> ProcessRunner.Outcome {
            try await ProcessRunner.run("storescu", ["-v"] + extra + ["-aec", called, "127.0.0.1", String(Self.gateway)] + files)
        }

        /// The studies carrying a label, by `/tools/find`.
        func studies(labeled label: String) async throws -> [String] {
            let api = RESTClient(baseURL: "http://127.0.0.1:18411")
            let answer = try await api.post("/tools/find", json: ["Level": "Study", "Query": [String: String](), "Labels": [label]])
            return try answer.json() as? [String] ?? []
        }
    }
}
