import Foundation
import Testing

extension ClusterTests {
    /// The gateway as a query/retrieve SCP, side by side with stock Orthanc over the same corpus (pydicom's test files,
    /// the tag fixtures, a generated set): DCMTK's findscu, movescu and getscu against both, stock Orthanc querying and
    /// retrieving from Tessera, two gateway replicas, the access rules.
    @Suite("Gateway C-FIND, C-MOVE and C-GET", .serialized)
    struct GatewayQueryRetrieveTests {
        let environment: TestEnvironment

        init() throws {
            environment = try TestEnvironment.load()
        }

        static let gateway = 14401, replica = 14402, asynchronous = 14403, orthancDicom = 14404, storescp = 14405
        static let orthancHTTP = 18404

        /// Who may ask what: FINDSCU finds and moves, GETSCU gets, NOMOVE may not move, stock Orthanc (ORTHANC) does
        /// everything; STORESCP is a destination. Answers in UTF-8 on both sides, so that every name compares.
        static let modalities = """
            "findscu": ["FINDSCU", "127.0.0.1", 4300], "getscu": ["GETSCU", "127.0.0.1", 4301],
            "storescp": ["STORESCP", "127.0.0.1", \(storescp)], "orthanc": ["ORTHANC", "127.0.0.1", \(orthancDicom)],
            "nomove": {"AET": "NOMOVE", "Host": "127.0.0.1", "Port": 4302, "AllowMove": false}
            """
        static let configuration = """
            {"DicomModalities": {\(modalities)}, "DefaultEncoding": "Utf8", "DicomAssociationCloseDelay": 1}
            """

        @Test("findscu, movescu and getscu get what stock Orthanc answers; Orthanc queries and retrieves from Tessera; replicas agree; access rules hold")
        func sideBySide() async throws {
            try await IsolatedStack.with(environment, name: "gw_qr", apiPort: 18401, indexerMetricsPort: 19401,
                                         json: Self.configuration) { stack in
                let orthanc = try await startOrthanc(stack)
                try await stack.startWorker(metricsPort: 19402)
                try await stack.startGateway(port: Self.gateway, metricsPort: 19403)
                stack.adopt("replica", try await environment.startGateway(
                    port: Self.replica, aeTitle: "TESSERA", metricsPort: 19404, extra: stack.shared))
                let (stored, set) = try await loadCorpus(into: stack.api, and: orthanc)
                #expect(stored > 100, "the corpus is stored on both sides")

                // C-FIND: the same answers as stock Orthanc, from both replicas.
                let queries = try environment.temporaryFolder("gw-queries") + "/queries.json"
                try Data(Self.queries.utf8).write(to: URL(fileURLWithPath: queries))
                let report = try await compare(a: "127.0.0.1:\(Self.orthancDicom):ORTHANC", b: "127.0.0.1:\(Self.gateway):TESSERA",
                                               queries: queries, ignoring: ["0008,0054"])
                let different = report["different"] as? [[String: Any]] ?? []
                #expect(different.isEmpty, "C-FIND answers differ from stock Orthanc's: \(Self.summary(different))")
                let results = report["results"] as? [String: [String: Any]] ?? [:]
                #expect((results["studies"]?["answers"] as? [Any])?.count ?? 0 > 30, "answers were compared")
                #expect((results["images"]?["answers"] as? [Any])?.count ?? 0 > 100)
                #expect((results["no-level"]?["status"] as? String ?? "").contains("Failed"), "\(results["no-level"] ?? [:])")
                #expect((results["uid-wildcard"]?["status"] as? String ?? "").contains("Failed"))
                let replicas = try await compare(a: "127.0.0.1:\(Self.gateway):TESSERA", b: "127.0.0.1:\(Self.replica):TESSERA",
                                                 queries: queries, ignoring: [])
                #expect((replicas["different"] as? [Any])?.isEmpty == true, "the replicas answer alike")
                let ours = try await findscu(port: Self.gateway, ["-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID"])
                #expect(ours.output.contains("(0008,0054) AE [TESSERA ]"), "RetrieveAETitle is our AE title")

                // C-MOVE and C-GET of the same study bring the same instances as from Orthanc.
                let study = set.entries[0].StudyInstanceUID
                let identifier = ["-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID=\(study)"]
                let fromOrthanc = try await move(from: Self.orthancDicom, aet: "ORTHANC", identifier, stack: stack)
                let fromTessera = try await move(from: Self.gateway, aet: "TESSERA", identifier, stack: stack)
                #expect(!fromOrthanc.isEmpty && fromTessera == fromOrthanc, "C-MOVE: \(fromTessera) vs \(fromOrthanc)")
                let gotOrthanc = try await get(from: Self.orthancDicom, aet: "ORTHANC", identifier)
                let gotTessera = try await get(from: Self.gateway, aet: "TESSERA", identifier)
                #expect(!gotOrthanc.isEmpty && gotTessera == gotOrthanc, "C-GET: \(gotTessera) vs \(gotOrthanc)")

                // Refusals: an unknown destination (0xA801), an unknown calling AE, a modality not allowed to move.
                let unknown = try await ProcessRunner.run("movescu", ["-v", "-aet", "FINDSCU", "-aec", "TESSERA", "-aem", "NOWHERE", "-S"]
                                                          + identifier + ["127.0.0.1", String(Self.gateway)])
                #expect(unknown.output.contains("MoveDestinationUnknown") || unknown.output.contains("a801"), "\(unknown.output)")
                let stranger = try await findscu(port: Self.gateway, calling: "STRANGER", ["-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID"])
                #expect(stranger.output.contains("Peer Aborted Association") && !stranger.output.contains("Pending"),
                        "an unknown AE cannot query (the association is aborted, as Orthanc does): \(stranger.output)")
                let noMove = try await ProcessRunner.run("movescu", ["-v", "-aet", "NOMOVE", "-aec", "TESSERA", "-aem", "STORESCP", "-S"]
                                                         + identifier + ["127.0.0.1", String(Self.gateway)])
                #expect(noMove.output.contains("Peer Aborted Association") && !noMove.output.contains("Move Response"),
                        "NOMOVE may not move: \(noMove.output)")
                #expect(try await findscu(port: Self.gateway, calling: "NOMOVE", ["-k", "QueryRetrieveLevel=STUDY"]).output.contains("Pending"),
                        "NOMOVE may still query")
                let echo = try await ProcessRunner.run("echoscu", ["-aet", "STRANGER", "-aec", "TESSERA", "127.0.0.1", String(Self.gateway)])
                #expect(echo.status == 0, "C-ECHO stays open to anyone (DicomAlwaysAllowEcho)")

                // Malformed identifiers: a failure status or an abort, never a crash; odd ones (no level, an unknown
                // level) get 0xC000 and the association goes on; the gateway answers the next query.
                let hostile = HostileTool(environment: environment)
                for identifier in ["garbage", "overlong", "open-sequence", "no-level", "bad-level"] {
                    let answer = try await hostile.run(["query", "--port", String(Self.gateway), "--aet", "TESSERA",
                                                        "--calling", "FINDSCU", "--identifier", identifier, "--timeout", "10"])
                    let statuses = answer["statuses"] as? [Int] ?? []
                    #expect(answer["association"] as? String == "accepted", "\(identifier): \(answer)")
                    if identifier.hasSuffix("level") {
                        #expect(statuses == [0xC000] && answer["released"] as? Bool == true, "\(identifier): \(answer)")
                    } else {
                        #expect(answer["aborted"] as? Bool == true || [0xC000, 0xA900].contains(statuses.last ?? 0), "\(identifier): \(answer)")
                    }
                }
                #expect(try await findscu(port: Self.gateway, ["-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID"]).output.contains("Pending"))

                // Stock Orthanc queries Tessera and retrieves a study Orthanc does not have into itself (C-MOVE to ORTHANC).
                let fresh = try await TestDicomSet.make(environment, count: 4, seed: TestDicomSet.freshSeed(), patients: 1, studies: 1)
                for entry in fresh.entries {
                    #expect(try await stack.api.post("/instances", body: [UInt8](try Data(contentsOf: URL(fileURLWithPath: entry.File)))).status == 200)
                }
                let freshStudy = fresh.entries[0].StudyInstanceUID
                let asked = try await orthanc.post("/modalities/tessera/query", json: [
                    "Level": "Study", "Query": ["StudyInstanceUID": freshStudy, "PatientName": "", "NumberOfStudyRelatedInstances": ""]])
                #expect(asked.status == 200, "\(String(decoding: asked.body, as: UTF8.self))")
                let query = try #require((try asked.json() as? [String: Any])?["ID"] as? String)
                let answers = try await orthanc.json("/queries/\(query)/answers?expand&simplify", as: [[String: Any]].self)
                #expect(answers.count == 1 && answers.first?["NumberOfStudyRelatedInstances"] as? String == "4", "\(answers)")
                let retrieved = try await orthanc.post("/queries/\(query)/retrieve", json: ["TargetAet": "ORTHANC", "Synchronous": true])
                #expect(retrieved.status == 200, "\(String(decoding: retrieved.body, as: UTF8.self))")
                let inOrthanc = try await orthanc.json("/instances", as: [String].self)
                #expect(Set(fresh.entries.map(\.ID)).isSubset(of: Set(inOrthanc)), "the study reached Orthanc through Tessera's C-MOVE")

                // SynchronousCMove false: the C-MOVE answers at once, a visible job sends the study; LimitFindResults
                // cuts C-FIND answers with the Cancel status, as Orthanc.
                stack.adopt("asynchronous", try await environment.startGateway(
                    port: Self.asynchronous, aeTitle: "TESSERA", metricsPort: 19405, extra: stack.shared.merging([
                        "ORTHANC_JSON": """
                            {"DicomModalities": {\(Self.modalities)}, "SynchronousCMove": false, "LimitFindResults": 2,
                             "DicomAlwaysAllowEcho": false, "DicomAlwaysAllowStore": false}
                            """,
                    ]) { $1 }))
                let limited = try await findscu(port: Self.asynchronous, ["-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID"])
                #expect(limited.output.components(separatedBy: "(Pending)").count - 1 == 2, "\(limited.output)")
                #expect(limited.output.contains("Matching Terminated due to Cancel Request") || limited.output.contains("Cancel"),
                        "\(limited.output)")
                // Nothing always allowed: an unknown calling AE title cannot even associate; a known one can.
                let rejected = try await ProcessRunner.run("echoscu", ["-v", "-aet", "STRANGER", "-aec", "TESSERA", "127.0.0.1", String(Self.asynchronous)])
                #expect(rejected.status != 0 && rejected.output.contains("Association Rejected"), "\(rejected.output)")
                #expect(try await ProcessRunner.run("echoscu", ["-aet", "FINDSCU", "-aec", "TESSERA", "127.0.0.1", String(Self.asynchronous)]).status == 0)
                let jobsBefore = try await stack.api.json("/jobs", as: [String].self).count
                let queued = try await move(from: Self.asynchronous, aet: "TESSERA", identifier, stack: stack, waitForFiles: fromTessera.count)
                #expect(queued == fromTessera, "the queued job sent the study")
                let jobs = try await stack.api.json("/jobs?expand", as: [[String: Any]].self)
                #expect(jobs.count == jobsBefore + 1 && jobs.contains { ($0["Content"] as? [String: Any])?["Description"] as? String == "C-MOVE" },
                        "the asynchronous C-MOVE is a visible job")
            }
        }

        // MARK: - Helpers

        static let queries = """
            [
             {"name": "patients", "model": "P", "keys": ["QueryRetrieveLevel=PATIENT", "PatientID", "PatientName", "PatientBirthDate", "PatientSex", "NumberOfPatientRelatedStudies", "NumberOfPatientRelatedSeries", "NumberOfPatientRelatedInstances"]},
             {"name": "studies", "model": "S", "keys": ["QueryRetrieveLevel=STUDY", "PatientName", "PatientID", "StudyInstanceUID", "StudyDate", "StudyTime", "AccessionNumber", "StudyDescription", "ModalitiesInStudy", "NumberOfStudyRelatedSeries", "NumberOfStudyRelatedInstances", "ReferringPhysicianName"]},
             {"name": "studies-patient-root", "model": "P", "keys": ["QueryRetrieveLevel=STUDY", "PatientID", "StudyInstanceUID", "StudyDate"]},
             {"name": "studies-sop-classes", "model": "S", "keys": ["QueryRetrieveLevel=STUDY", "StudyInstanceUID", "SOPClassesInStudy"]},
             {"name": "studies-wildcard", "model": "S", "keys": ["QueryRetrieveLevel=STUDY", "PatientName=*a*", "StudyInstanceUID"]},
             {"name": "studies-question-mark", "model": "S", "keys": ["QueryRetrieveLevel=STUDY", "PatientID=?????", "StudyInstanceUID"]},
             {"name": "studies-date-range", "model": "S", "keys": ["QueryRetrieveLevel=STUDY", "StudyDate=20000101-", "StudyInstanceUID"]},
             {"name": "studies-date-upper", "model": "S", "keys": ["QueryRetrieveLevel=STUDY", "StudyDate=-20000101", "StudyInstanceUID"]},
             {"name": "studies-modalities", "model": "S", "keys": ["QueryRetrieveLevel=STUDY", "ModalitiesInStudy=CT\\\\MR", "StudyInstanceUID"]},
             {"name": "studies-list", "model": "S", "keys": ["QueryRetrieveLevel=STUDY", "PatientID=SCSARAB\\\\SCSRUSS\\\\X1EXAMPLE", "StudyInstanceUID", "PatientName"]},
             {"name": "series", "model": "S", "keys": ["QueryRetrieveLevel=SERIES", "StudyInstanceUID", "SeriesInstanceUID", "Modality", "SeriesNumber", "SeriesDescription", "NumberOfSeriesRelatedInstances"]},
             {"name": "series-ct", "model": "S", "keys": ["QueryRetrieveLevel=SERIES", "Modality=CT", "SeriesInstanceUID", "BodyPartExamined"]},
             {"name": "images", "model": "S", "keys": ["QueryRetrieveLevel=IMAGE", "SOPInstanceUID", "SOPClassUID", "InstanceNumber", "Rows", "Columns"]},
             {"name": "images-non-main-constraint", "model": "S", "keys": ["QueryRetrieveLevel=IMAGE", "Rows=64", "SOPInstanceUID"]},
             {"name": "no-level", "model": "S", "keys": ["PatientName", "StudyInstanceUID"]},
             {"name": "bad-level", "model": "S", "keys": ["QueryRetrieveLevel=FOO", "StudyInstanceUID"]},
             {"name": "uid-wildcard", "model": "S", "keys": ["QueryRetrieveLevel=STUDY", "StudyInstanceUID=1.2*"]},
             {"name": "pn-case", "model": "S", "keys": ["QueryRetrieveLevel=STUDY", "PatientName=lastname^firstname", "StudyInstanceUID"]},
             {"name": "computed-elsewhere", "model": "S", "keys": ["QueryRetrieveLevel=STUDY", "StudyInstanceUID", "NumberOfPatientRelatedStudies", "NumberOfSeriesRelatedInstances"]},
             {"name": "nothing", "model": "S", "keys": ["QueryRetrieveLevel=STUDY", "StudyInstanceUID=1.2.3.4.5.6.7.8.9"]}
            ]
            """

        /// Stock Orthanc from Debian, AE title ORTHANC, knowing the same modalities and Tessera.
        func startOrthanc(_ stack: IsolatedStack) async throws -> RESTClient {
            let folder = try environment.temporaryFolder("orthanc-gw")
            try """
                {"Name": "stock", "StorageDirectory": "\(folder)/db", "IndexDirectory": "\(folder)/db",
                 "HttpPort": \(Self.orthancHTTP), "DicomPort": \(Self.orthancDicom), "DicomAet": "ORTHANC",
                 "RemoteAccessAllowed": false, "AuthenticationEnabled": false, "Plugins": [], "DefaultEncoding": "Utf8",
                 "DicomModalities": {\(Self.modalities), "tessera": ["TESSERA", "127.0.0.1", \(Self.gateway)]}}
                """.write(toFile: folder + "/orthanc.json", atomically: true, encoding: .utf8)
            stack.adopt("orthanc", try ProcessRunner.start("Orthanc", [folder + "/orthanc.json"]))
            let client = RESTClient(baseURL: "http://127.0.0.1:\(Self.orthancHTTP)")
            let deadline = ContinuousClock.now + .seconds(30)
            while (try? await client.get("/system"))?.status != 200 && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(200))
            }
            return client
        }

        /// Uploads pydicom's test files, the tag fixtures and a generated set to Tessera, and what Tessera stored to
        /// Orthanc; waits until Tessera indexed everything. Returns the number of instances on each side and the set.
        func loadCorpus(into tessera: RESTClient, and orthanc: RESTClient) async throws -> (Int, TestDicomSet) {
            let listing = try await ProcessRunner.run(environment.python, ["-c", """
                import glob, os, pydicom
                folder = os.path.join(os.path.dirname(pydicom.data.__file__), "test_files")
                print("\\n".join(sorted(f for f in glob.glob(folder + "/**/*", recursive=True) if os.path.isfile(f))))
                """])
            var files = listing.output.split(separator: "\n").map(String.init).filter { $0.hasPrefix("/") }
            let fixtures = environment.repository + "/Tests/UnitTests/Fixtures/tags"
            files += try FileManager.default.contentsOfDirectory(atPath: fixtures).filter { $0.hasSuffix(".dcm") }.sorted()
                .map { "\(fixtures)/\($0)" }
            let set = try await TestDicomSet.make(environment, count: 12, seed: TestDicomSet.freshSeed())
            files += set.entries.map(\.File)
            for file in files {
                let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
                guard try await tessera.post("/instances", body: bytes).status == 200 else { continue }
                #expect(try await orthanc.post("/instances", body: bytes).status == 200, "Orthanc takes \(file)")
            }
            let expected = try await orthanc.json("/statistics")["CountInstances"] as? Int ?? -1
            let deadline = ContinuousClock.now + .seconds(60)
            while try await tessera.json("/statistics")["CountInstances"] as? Int != expected, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(300))
            }
            #expect(try await tessera.json("/statistics")["CountInstances"] as? Int == expected)
            return (expected, set)
        }

        func compare(a: String, b: String, queries: String, ignoring: [String]) async throws -> [String: Any] {
            let outcome = try await ProcessRunner.run(environment.python, [
                environment.repository + "/Tests/tools/find_compare.py", "--a", a, "--b", b, "--aet", "FINDSCU",
            ] + ignoring.flatMap { ["--ignore", $0] } + [queries], timeout: .seconds(300))
            let json = outcome.output.split(separator: "\n").last.map(String.init) ?? ""
            return try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any], "\(outcome.output)")
        }

        static func summary(_ different: [[String: Any]]) -> String {
            different.map { entry in
                let a = entry["a"] as? [String: Any] ?? [:], b = entry["b"] as? [String: Any] ?? [:]
                let answersA = (a["answers"] as? [[String: String]] ?? []).map { "\($0.sorted { $0.key < $1.key })" }
                let answersB = (b["answers"] as? [[String: String]] ?? []).map { "\($0.sorted { $0.key < $1.key })" }
                let onlyA = answersA.filter { !answersB.contains($0) }.prefix(3), onlyB = answersB.filter { !answersA.contains($0) }.prefix(3)
                return "\(entry["name"] ?? ""): status \(a["status"] ?? "") / \(b["status"] ?? ""), \(answersA.count) / \(answersB.count) answers; only A: \(onlyA); only B: \(onlyB)"
            }.joined(separator: "\n")
        }

        func findscu(port: Int, calling: String = "FINDSCU", _ keys: [String]) async throws -> ProcessRunner.Outcome {
            try await ProcessRunner.run("findscu", ["-v", "-aet", calling, "-aec", "TESSERA", "-S"] + keys + ["127.0.0.1", String(port)])
        }

        /// movescu to a fresh storescp (STORESCP): the SOP instance UIDs received (file names without the modality
        /// prefix). With `waitForFiles`, waits for that many files (an asynchronous C-MOVE answers first).
        func move(from port: Int, aet: String, _ identifier: [String], stack: IsolatedStack, waitForFiles: Int = 0) async throws -> Set<String> {
            let folder = try environment.temporaryFolder("gw-move")
            let scp = try ProcessRunner.start("storescp", ["+xa", "-od", folder, "-aet", "STORESCP", String(Self.storescp)])
            defer { kill(scp.pid, SIGKILL) }
            try await Task.sleep(for: .milliseconds(300))
            let outcome = try await ProcessRunner.run("movescu", ["-v", "-aet", "FINDSCU", "-aec", aet, "-aem", "STORESCP", "-S"]
                                                      + identifier + ["127.0.0.1", String(port)])
            #expect(outcome.status == 0 && outcome.output.contains("Final Move Response (Success)"), "\(outcome.output)")
            let deadline = ContinuousClock.now + .seconds(30)
            while try FileManager.default.contentsOfDirectory(atPath: folder).count < waitForFiles, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(200))
            }
            try await Task.sleep(for: .milliseconds(300))
            return Set(try FileManager.default.contentsOfDirectory(atPath: folder).map { String($0.drop { $0 != "." }.dropFirst()) })
        }

        /// getscu into a fresh folder: the SOP instance UIDs received.
        func get(from port: Int, aet: String, _ identifier: [String]) async throws -> Set<String> {
            let folder = try environment.temporaryFolder("gw-get")
            let outcome = try await ProcessRunner.run("getscu", ["-v", "-aet", "GETSCU", "-aec", aet, "-S", "-od", folder]
                                                      + identifier + ["127.0.0.1", String(port)])
            #expect(outcome.status == 0 && outcome.output.contains("Received C-GET Response (Success)"), "\(outcome.output)")
            return Set(try FileManager.default.contentsOfDirectory(atPath: folder).map { String($0.drop { $0 != "." }.dropFirst()) })
        }
    }
}
