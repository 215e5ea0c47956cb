import Foundation
import Testing

extension ClusterTests.ModalityJobTests {
    @Test("DCMTK's dcmqrscp as the query/retrieve source: C-FIND, C-GET into the worker, C-MOVE to the gateway")
    func dcmqrscpSource() async throws {
        let qrPort = 14271, gateway = 14272
        let folder = try environment.temporaryFolder("dcmqrscp")
        try FileManager.default.createDirectory(atPath: folder + "/db", withIntermediateDirectories: true)
        try """
            NetworkTCPPort = \(qrPort)
            MaxPDUSize = 16384
            MaxAssociations = 16
            HostTable BEGIN
            tessera = (TESSERA, 127.0.0.1, \(gateway))
            HostTable END
            VendorTable BEGIN
            VendorTable END
            AETable BEGIN
            QRSCP \(folder)/db RW (200, 1024mb) ANY
            AETable END
            """.write(toFile: folder + "/dcmqrscp.cfg", atomically: true, encoding: .utf8)
        let json = """
            {"DicomModalities": {"qr": ["QRSCP", "127.0.0.1", \(qrPort)]}}
            """
        try await IsolatedStack.with(environment, name: "jobs_dcmqrscp", apiPort: 18273, indexerMetricsPort: 19271,
                                     json: json) { stack in
            stack.adopt("dcmqrscp", try ProcessRunner.start("dcmqrscp", ["-c", folder + "/dcmqrscp.cfg"]))
            try await stack.startWorker(metricsPort: 19272)
            try await stack.startGateway(port: gateway, metricsPort: 19273)
            try await waitForPort(qrPort)
            let api = stack.api
            let set = try await TestDicomSet.make(environment, count: 6, seed: TestDicomSet.freshSeed())
            let loaded = try await ProcessRunner.run("storescu", ["-aec", "QRSCP", "-aet", "LOADER", "127.0.0.1", String(qrPort)]
                                                     + set.entries.map(\.File), timeout: .seconds(60))
            #expect(loaded.status == 0, "\(loaded.output)")
            let studies = Set(set.entries.map(\.StudyInstanceUID))

            // C-FIND.
            let found = try await api.post("/modalities/qr/query", json: ["Level": "Study", "Query": ["StudyInstanceUID": ""]])
            #expect(found.status == 200, "\(String(decoding: found.body, as: UTF8.self))")
            let query = try #require((try found.json() as? [String: String])?["ID"])
            let answers = try await api.json("/queries/\(query)/answers?expand&simplify", as: [[String: Any]].self)
            #expect(Set(answers.compactMap { $0["StudyInstanceUID"] as? String }) == studies)

            // C-GET of one study: the instances arrive on the worker's own association.
            let first = set.entries[0].StudyInstanceUID
            let got = try await api.post("/modalities/qr/get", json: ["Level": "Study", "Resources": [["StudyInstanceUID": first]]])
            #expect(got.status == 200, "\(String(decoding: got.body, as: UTF8.self))")
            let inFirst = Set(set.entries.filter { $0.StudyInstanceUID == first }.map(\.ID))
            #expect(try await api.waitForInstances(inFirst, seconds: 30) == inFirst)

            // C-MOVE of every answer to the gateway (dcmqrscp knows TESSERA from its HostTable).
            let moved = try await api.post("/queries/\(query)/retrieve", json: ["TargetAet": "TESSERA", "RetrieveMethod": "C-MOVE"])
            #expect(moved.status == 200, "\(String(decoding: moved.body, as: UTF8.self))")
            let everything = Set(set.entries.map(\.ID))
            #expect(try await api.waitForInstances(everything, seconds: 30) == everything)
            // The files are the ones loaded into dcmqrscp.
            let copies = try environment.temporaryFolder("dcmqrscp-copies")
            var pairs: [String] = []
            for entry in set.entries {
                let path = copies + "/" + entry.ID
                try Data(try await api.get("/instances/\(entry.ID)/file").body).write(to: URL(fileURLWithPath: path))
                pairs += [entry.File, path]
            }
            let comparison = try await HostileTool(environment: environment).compare(pairs)
            #expect((comparison["different"] as? [Any])?.isEmpty == true, "\(comparison)")
        }
    }
}
