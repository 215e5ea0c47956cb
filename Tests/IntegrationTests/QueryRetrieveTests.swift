import Foundation
import Testing

extension ClusterTests.ModalityJobTests {
    @Test("C-FIND and C-MOVE against stock Orthanc: /queries and answers on every replica, retrieves into Tessera's gateway")
    func queryRetrieveAgainstOrthanc() async throws {
        let orthancDicom = 14231, orthancHTTP = 18231, gateway = 14232
        let json = """
            {"DicomModalities": {"orthanc": ["ORTHANCQR", "127.0.0.1", \(orthancDicom)]}}
            """
        try await IsolatedStack.with(environment, name: "jobs_qr", apiPort: 18233, indexerMetricsPort: 19231,
                                     json: json) { stack in
            let orthanc = try await startStockOrthanc(stack, name: "qr", http: orthancHTTP, dicom: orthancDicom, aet: "ORTHANCQR",
                                                      tesseraPort: gateway)
            try await stack.startWorker(metricsPort: 19232)
            try await stack.startGateway(port: gateway, metricsPort: 19233)
            let api = stack.api
            let set = try await TestDicomSet.make(environment, count: 6, seed: TestDicomSet.freshSeed())
            try await upload(set, to: orthanc)
            let studies = Set(set.entries.map(\.StudyInstanceUID))

            // An echo that also checks C-FIND (Orthanc answers C-FIND).
            #expect(try await api.post("/modalities/orthanc/echo", json: ["CheckFind": true]).status == 200)

            // C-FIND at study level.
            let found = try await api.post("/modalities/orthanc/query", json: [
                "Level": "Study", "Query": ["PatientName": "", "StudyDate": ""]])
            #expect(found.status == 200, "\(String(decoding: found.body, as: UTF8.self))")
            let query = try #require((try found.json() as? [String: String])?["ID"])
            #expect((try found.json() as? [String: String])?["Path"] == "/queries/\(query)")
            #expect(try await api.json("/queries", as: [String].self).contains(query))
            #expect(try await api.json("/queries/\(query)", as: [String].self) == ["answers", "level", "modality", "query", "retrieve"])
            #expect(String(decoding: try await api.get("/queries/\(query)/level").body, as: UTF8.self) == "Study")
            #expect(String(decoding: try await api.get("/queries/\(query)/modality").body, as: UTF8.self) == "orthanc")
            let asked = try await api.json("/queries/\(query)/query")
            #expect(Set(asked.keys) == ["0008,0020", "0010,0010"], "the query as asked: \(asked)")
            let answers = try await api.json("/queries/\(query)/answers", as: [String].self)
            #expect(answers.count == studies.count)
            let simplified = try await api.json("/queries/\(query)/answers?expand&simplify", as: [[String: Any]].self)
            #expect(Set(simplified.compactMap { $0["StudyInstanceUID"] as? String }) == studies)
            #expect(simplified.allSatisfy { $0["QueryRetrieveLevel"] as? String == "STUDY" && $0["PatientName"] != nil })
            let full = try await api.json("/queries/\(query)/answers/0/content")
            #expect((full["0020,000d"] as? [String: Any])?["Name"] as? String == "StudyInstanceUID")
            #expect(try await api.get("/queries/\(query)/answers/\(answers.count)/content").status == 400)
            #expect(try await api.json("/queries/\(query)/answers/0", as: [String].self) == ["content", "retrieve", "query-series", "query-instances"])

            // Another replica answers for the same query.
            let replica = try await environment.startReplica(port: 18234, json: json, extra: stack.shared)
            stack.adopt("replica", replica)
            let other = RESTClient(baseURL: "http://127.0.0.1:18234")
            #expect(try await other.json("/queries/\(query)/answers", as: [String].self).count == studies.count)

            // A child query from an answer.
            let series = try await api.post("/queries/\(query)/answers/0/query-series", json: ["Query": ["Modality": ""]])
            #expect(series.status == 200, "\(String(decoding: series.body, as: UTF8.self))")
            let seriesQuery = try #require((try series.json() as? [String: String])?["ID"])
            let seriesAnswers = try await api.json("/queries/\(seriesQuery)/answers?expand&simplify", as: [[String: Any]].self)
            let firstStudy = simplified[0]["StudyInstanceUID"] as? String
            #expect(!seriesAnswers.isEmpty && seriesAnswers.allSatisfy { $0["StudyInstanceUID"] as? String == firstStudy })

            // C-MOVE of one answer to Tessera's own gateway (the body is the target AE title), then of all.
            let one = try await api.post("/queries/\(query)/answers/0/retrieve", body: Array("TESSERA".utf8))
            #expect(one.status == 200, "\(String(decoding: one.body, as: UTF8.self))")
            let content = try #require(try one.json() as? [String: Any])
            #expect(content["RemoteAet"] as? String == "ORTHANCQR" && (content["Query"] as? [[String: String]])?.count == 1)
            let inFirst = Set(set.entries.filter { $0.StudyInstanceUID == firstStudy }.map(\.ID))
            #expect(try await api.waitForInstances(inFirst, seconds: 30).isSuperset(of: inFirst))
            let all = try await api.post("/queries/\(query)/retrieve", json: ["TargetAet": "TESSERA"])
            #expect(all.status == 200, "\(String(decoding: all.body, as: UTF8.self))")
            let everything = Set(set.entries.map(\.ID))
            #expect(try await api.waitForInstances(everything, seconds: 30) == everything)
            let jobs = try await api.json("/jobs?expand", as: [[String: Any]].self)
            #expect(jobs.filter { $0["Type"] as? String == "DicomMoveScu" && $0["State"] as? String == "Success" }.count == 2)

            // /modalities/{id}/move by UID; an unknown study fails as the peer answers.
            let moved = try await api.post("/modalities/orthanc/move", json: [
                "Level": "Study", "Resources": [["StudyInstanceUID": set.entries[0].StudyInstanceUID]], "TargetAet": "TESSERA"])
            #expect(moved.status == 200, "\(String(decoding: moved.body, as: UTF8.self))")
            let missing = try await api.post("/modalities/orthanc/move", json: [
                "Level": "Study", "Resources": [["StudyInstanceUID": "1.2.3.4.5.6.7"]], "TargetAet": "TESSERA"])
            #expect(missing.status == 422 && String(decoding: missing.body, as: UTF8.self).contains("C-MOVE"), "\(String(decoding: missing.body, as: UTF8.self))")

            // Orthanc's deprecated one-level finds answer the answers themselves and leave no query behind.
            let queriesBefore = try await api.json("/queries", as: [String].self).count
            let patients = try await api.post("/modalities/orthanc/find-patient", json: [String: String]())
            let patientAnswers = try #require(try patients.json() as? [[String: Any]])
            #expect(Set(patientAnswers.compactMap { $0["PatientID"] as? String }) == Set(set.entries.map(\.PatientID)))
            #expect(patientAnswers.allSatisfy { $0["PatientName"] != nil && $0["QueryRetrieveLevel"] as? String == "PATIENT" })
            #expect(try await api.post("/modalities/orthanc/find-study", json: [String: String]()).status == 400, "PatientID is required")
            let entry = set.entries[0]
            let studyAnswers = try #require(try await api.post("/modalities/orthanc/find-study", json: ["PatientID": entry.PatientID]).json() as? [[String: Any]])
            #expect(studyAnswers.contains { $0["StudyInstanceUID"] as? String == entry.StudyInstanceUID })
            let instanceAnswers = try #require(try await api.post("/modalities/orthanc/find-instance", json: [
                "PatientID": entry.PatientID, "StudyInstanceUID": entry.StudyInstanceUID,
                "SeriesInstanceUID": entry.SeriesInstanceUID]).json() as? [[String: Any]])
            #expect(instanceAnswers.contains { $0["SOPInstanceUID"] as? String == entry.SOPInstanceUID })
            // The deprecated hierarchical find: patients, their studies, their series.
            let tree = try #require(try await api.post("/modalities/orthanc/find", json: [String: String]()).json() as? [[String: Any]])
            #expect(Set(tree.compactMap { $0["PatientID"] as? String }) == Set(set.entries.map(\.PatientID)))
            let treeStudies = tree.flatMap { $0["Studies"] as? [[String: Any]] ?? [] }
            #expect(Set(treeStudies.compactMap { $0["StudyInstanceUID"] as? String }) == studies && treeStudies.count == studies.count)
            let treeSeries = treeStudies.flatMap { $0["Series"] as? [[String: Any]] ?? [] }
            #expect(Set(treeSeries.compactMap { $0["SeriesInstanceUID"] as? String }) == Set(set.entries.map(\.SeriesInstanceUID)))
            #expect(treeSeries.allSatisfy { $0["Modality"] != nil && $0["QueryRetrieveLevel"] as? String == "SERIES" })
            #expect(try await api.json("/queries", as: [String].self).count == queriesBefore)

            // Bad input.
            #expect(try await api.post("/modalities/orthanc/query", json: ["Level": "Nope", "Query": [String: String]()]).status == 400)
            #expect(try await api.post("/modalities/orthanc/query", json: ["Level": "Study", "Query": ["NoSuchTag": ""]]).status == 400)
            #expect(try await api.post("/modalities/orthanc/query", json: ["Level": "Study", "Query": ["PatientName": 3]]).status == 400)
            #expect(try await api.post("/modalities/nope/query", json: ["Level": "Study"]).status == 404)
            #expect(try await api.get("/queries/nope/answers").status == 404)
            #expect(try await api.post("/modalities/orthanc/move", json: ["Level": "Study", "Resources": [String]()]).status == 400)
        }
    }
}

extension ClusterTests.ModalityJobTests {
    @Test("C-GET from stock Orthanc: /modalities/{id}/get and retrieves by RetrieveMethod store what arrives through the ingest path, no inbound port needed")
    func getFromOrthanc() async throws {
        let orthancDicom = 14251, orthancHTTP = 18251
        let json = """
            {"DicomModalities": {
                "orthanc": {"AET": "ORTHANCGET", "Host": "127.0.0.1", "Port": \(orthancDicom), "RetrieveMethod": "C-GET"},
                "bymove": ["ORTHANCGET", "127.0.0.1", \(orthancDicom)],
                "dead": ["DEAD", "127.0.0.1", 14258]}}
            """
        try await IsolatedStack.with(environment, name: "jobs_get", apiPort: 18253, indexerMetricsPort: 19251,
                                     json: json) { stack in
            let orthanc = try await startStockOrthanc(stack, name: "get", http: orthancHTTP, dicom: orthancDicom, aet: "ORTHANCGET",
                                                      tesseraPort: 14259)
            // No gateway: a C-GET brings the instances on the association the worker opened.
            try await stack.startWorker(metricsPort: 19252)
            let api = stack.api
            let set = try await TestDicomSet.make(environment, count: 6, seed: TestDicomSet.freshSeed())
            try await upload(set, to: orthanc)
            #expect(try await api.json("/modalities/orthanc/configuration")["RetrieveMethod"] as? String == "C-GET")

            // POST /modalities/{id}/get, as the seed's curl line: synchronous, one study.
            let first = set.entries[0].StudyInstanceUID
            let got = try await api.post("/modalities/orthanc/get", json: [
                "Level": "Study", "Resources": [["StudyInstanceUID": first]], "Timeout": 60])
            #expect(got.status == 200, "\(String(decoding: got.body, as: UTF8.self))")
            let content = try #require(try got.json() as? [String: Any])
            #expect(content["RemoteAet"] as? String == "ORTHANCGET" && (content["Query"] as? [[String: String]])?.count == 1)
            let inFirst = Set(set.entries.filter { $0.StudyInstanceUID == first }.map(\.ID))
            #expect(try await api.waitForInstances(inFirst, seconds: 30) == inFirst, "exactly the study asked for")

            // The files are Orthanc's datasets, and say where they came from.
            let copies = try environment.temporaryFolder("get-copies")
            var pairs: [String] = []
            for id in inFirst {
                let ours = copies + "/tessera-" + id, theirs = copies + "/orthanc-" + id
                try Data(try await api.get("/instances/\(id)/file").body).write(to: URL(fileURLWithPath: ours))
                try Data(try await orthanc.get("/instances/\(id)/file").body).write(to: URL(fileURLWithPath: theirs))
                pairs += [theirs, ours]
            }
            let comparison = try await HostileTool(environment: environment).compare(pairs)
            #expect(comparison["pairs"] as? Int == inFirst.count)
            #expect((comparison["different"] as? [Any])?.isEmpty == true, "\(comparison)")
            let someID = try #require(inFirst.first)
            #expect(String(decoding: try await api.get("/instances/\(someID)/metadata/Origin").body, as: UTF8.self) == "DicomProtocol")
            #expect(String(decoding: try await api.get("/instances/\(someID)/metadata/RemoteAET").body, as: UTF8.self) == "ORTHANCGET")

            // A query retrieved with an empty body: the modality's RetrieveMethod (C-GET), no target needed.
            let found = try await api.post("/modalities/orthanc/query", json: ["Level": "Study", "Query": ["StudyInstanceUID": ""]])
            let query = try #require((try found.json() as? [String: String])?["ID"])
            let all = try await api.post("/queries/\(query)/retrieve", body: [])
            #expect(all.status == 200, "\(String(decoding: all.body, as: UTF8.self))")
            let everything = Set(set.entries.map(\.ID))
            #expect(try await api.waitForInstances(everything, seconds: 30) == everything)

            // RetrieveMethod in the body overrides a modality that moves by default; asynchronous as a job.
            let byMove = try await api.post("/modalities/bymove/query", json: ["Level": "Study", "Query": ["StudyInstanceUID": first]])
            let moveQuery = try #require((try byMove.json() as? [String: String])?["ID"])
            let queued = try await api.post("/queries/\(moveQuery)/answers/0/retrieve", json: ["RetrieveMethod": "C-GET", "Synchronous": false])
            let job = try #require((try queued.json() as? [String: String])?["ID"])
            var state = ""
            for _ in 0..<120 where state != "Success" && state != "Failure" {
                state = try await api.json("/jobs/\(job)")["State"] as? String ?? ""
                try await Task.sleep(for: .milliseconds(250))
            }
            #expect(state == "Success")
            #expect(try await api.json("/jobs/\(job)")["Type"] as? String == "DicomGetScu")
            let jobs = try await api.json("/jobs?expand", as: [[String: Any]].self)
            #expect(jobs.filter { $0["Type"] as? String == "DicomGetScu" && $0["State"] as? String == "Success" }.count == 3)

            // Bad input and a dead peer.
            #expect(try await api.post("/queries/\(moveQuery)/retrieve", json: ["RetrieveMethod": "C-STORE"]).status == 400)
            #expect(try await api.post("/modalities/orthanc/get", json: ["Level": "Study", "Resources": [String]()]).status == 400)
            #expect(try await api.post("/modalities/nope/get", json: ["Level": "Study", "Resources": [["StudyInstanceUID": first]]]).status == 404)
            let dead = try await api.post("/modalities/dead/get", json: [
                "Level": "Study", "Resources": [["StudyInstanceUID": first]], "Timeout": 2])
            #expect(dead.status >= 400 && String(decoding: dead.body, as: UTF8.self).contains("C-GET"),
                    "\(dead.status) \(String(decoding: dead.body, as: UTF8.self))")
        }
    }
}

extension ClusterTests.ModalityJobTests {
    /// Stock Orthanc (Debian) without authentication on `http`/`dicom`, AE title `aet`, knowing Tessera as `tessera`
    /// (AE title TESSERA at `tesseraPort`); adopted by the stack and waited for. Its REST client.
    func startStockOrthanc(_ stack: IsolatedStack, name: String, http: Int, dicom: Int, aet: String,
                           tesseraPort: Int) async throws -> RESTClient {
        let folder = try environment.temporaryFolder("orthanc-\(name)")
        try """
            {"Name": "\(name)", "StorageDirectory": "\(folder)/db", "IndexDirectory": "\(folder)/db", "HttpPort": \(http),
             "DicomPort": \(dicom), "DicomAet": "\(aet)", "RemoteAccessAllowed": false,
             "AuthenticationEnabled": false, "Plugins": [],
             "DicomModalities": {"tessera": ["TESSERA", "127.0.0.1", \(tesseraPort)]}}
            """.write(toFile: folder + "/orthanc.json", atomically: true, encoding: .utf8)
        stack.adopt("orthanc", try ProcessRunner.start("Orthanc", [folder + "/orthanc.json"]))
        try await waitForPort(dicom)
        return RESTClient(baseURL: "http://127.0.0.1:\(http)")
    }

    /// Uploads every file of `set` with `POST /instances`, each expected to answer 200.
    func upload(_ set: TestDicomSet, to client: RESTClient) async throws {
        for entry in set.entries {
            #expect(try await client.post("/instances", body: [UInt8](try Data(contentsOf: URL(fileURLWithPath: entry.File)))).status == 200)
        }
    }
}
