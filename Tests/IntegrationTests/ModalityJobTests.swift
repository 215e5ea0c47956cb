import Foundation
import Testing

extension ClusterTests {
    /// The job worker and C-ECHO / C-STORE to modalities, against DCMTK's storescp, a refusing port and a listener that
    /// never answers, on stacks of their own (API, indexer, one or two workers).
    @Suite("Jobs and C-STORE to modalities", .serialized)
    struct ModalityJobTests {
        let environment: TestEnvironment

        init() throws {
            environment = try TestEnvironment.load()
        }

        /// storescp on 14201, a closed port, a listener on 14203 that accepts and never speaks.
        static let configuration = """
            {"DicomModalities": {
                "scp": ["STORESCP", "127.0.0.1", 14201],
                "dead": ["DEAD", "127.0.0.1", 1],
                "silent": {"AET": "SILENT", "Host": "127.0.0.1", "Port": 14203, "Timeout": 2}},
             "LogExportedResources": true, "DicomAssociationCloseDelay": 2, "JobsHistorySize": 50}
            """

        /// DCMTK's storescp accepting every transfer syntax it knows, writing what it receives to a new folder.
        func startStorescp(_ stack: IsolatedStack, port: Int = 14201, extra: [String] = []) throws -> String {
            let folder = try environment.temporaryFolder("storescp")
            let process = try ProcessRunner.start("storescp", ["-v", "+xa", "-od", folder, "-aet", "STORESCP"] + extra + [String(port)])
            stack.adopt("storescp", process)
            return folder
        }

        func waitForPort(_ port: Int) async throws {
            try await SilentListener.waitUntilListening(port: port)
        }

        /// The SOP Instance UID → public ID of every instance of the stack.
        func instancesBySOP(_ api: RESTClient) async throws -> [String: String] {
            var map: [String: String] = [:]
            for id in try await api.json("/instances", as: [String].self) {
                let tags = try await api.json("/instances/\(id)/simplified-tags")
                if let sop = tags["SOPInstanceUID"] as? String { map[sop] = id }
            }
            return map
        }

        @Test("C-STORE to storescp: an ID, a list of patients; every file arrives with the same dataset; /exports logs it")
        func storeToStorescp() async throws {
            try await IsolatedStack.with(environment, name: "jobs_store", apiPort: 18201, indexerMetricsPort: 19201,
                                         json: Self.configuration) { stack in
                try await stack.startWorker(metricsPort: 19202)
                let refused = try await stack.uploadTagFixtures()
                #expect(refused.isEmpty)
                let received = try startStorescp(stack)
                try await waitForPort(14201)
                let api = stack.api
                let ids = try await api.json("/instances", as: [String].self)
                #expect(ids.count >= 20)

                // A plain ID as the whole body (Orthanc <= 0.5.1's form), answered synchronously.
                let one = try await api.post("/modalities/scp/store", body: Array(ids[0].utf8))
                #expect(one.status == 200, "\(String(decoding: one.body, as: UTF8.self))")
                let content = try #require(try one.json() as? [String: Any])
                #expect(content["InstancesCount"] as? Int == 1 && content["FailedInstancesCount"] as? Int == 0)
                #expect(content["RemoteAet"] as? String == "STORESCP" && content["LocalAet"] as? String == "TESSERA")
                #expect(content["ParentResources"] as? [String] == [ids[0]] && content["Description"] as? String == "REST API")

                // The seed's bulk form: a JSON list of identifiers.
                let listed = try await api.post("/modalities/scp/store", json: [ids[0], ids[1]])
                let listedContent = try listed.json() as? [String: Any]
                #expect(listed.status == 200 && listedContent?["InstancesCount"] as? Int == 2)

                // Every patient in one association.
                let patients = try await api.json("/patients", as: [String].self)
                let all = try await api.post("/modalities/scp/store", json: ["Resources": patients])
                #expect(all.status == 200, "\(String(decoding: all.body, as: UTF8.self))")
                let bulk = try #require(try all.json() as? [String: Any])
                #expect(bulk["InstancesCount"] as? Int == ids.count && bulk["FailedInstancesCount"] as? Int == 0)
                #expect(Set(bulk["ParentResources"] as? [String] ?? []) == Set(patients))

                // What storescp wrote has the datasets Tessera stored (DCMTK recomputes group lengths, as in Orthanc).
                let files = try FileManager.default.contentsOfDirectory(atPath: received).map { received + "/" + $0 }
                #expect(files.count == ids.count, "one file per instance: \(files.count) of \(ids.count)")
                let bySOP = try await instancesBySOP(api)
                var pairs: [String] = []
                let originals = try environment.temporaryFolder("originals")
                let outcome = try await ProcessRunner.run(environment.python, ["-c", """
                    import sys, json, pydicom
                    print(json.dumps({f: str(pydicom.dcmread(f, stop_before_pixels=True, force=True).SOPInstanceUID) for f in sys.argv[1:]}))
                    """] + files)
                let sops = try #require(try JSONSerialization.jsonObject(
                    with: Data((outcome.output.split(separator: "\n").last ?? "").utf8)) as? [String: String])
                for (file, sop) in sops {
                    let id = try #require(bySOP[sop], "storescp received an instance Tessera does not have: \(sop)")
                    let stored = try await api.get("/instances/\(id)/file")
                    let path = originals + "/" + id
                    try Data(stored.body).write(to: URL(fileURLWithPath: path))
                    pairs += [file, path]
                }
                let comparison = try await HostileTool(environment: environment).compare(pairs)
                #expect(comparison["pairs"] as? Int == ids.count)
                #expect((comparison["different"] as? [Any])?.isEmpty == true, "\(comparison)")

                // LogExportedResources: the resources as asked, at their level.
                let exports = try await api.json("/exports")
                let entries = exports["Exports"] as? [[String: Any]] ?? []
                #expect(entries.count == 3 + patients.count)
                #expect(entries.first?["ResourceType"] as? String == "Instance" && entries.first?["RemoteModality"] as? String == "scp")
                #expect(entries.dropFirst(3).allSatisfy { $0["ResourceType"] as? String == "Patient" && $0["PatientID"] != nil })

                // DicomAssociationCloseDelay (2 s): the next store to the same peer within it reuses the open association,
                // one after it opens a new one.
                let log = try #require(stack.log(of: "storescp"))
                func associations() throws -> Int {
                    try String(contentsOfFile: log, encoding: .utf8).components(separatedBy: "Association Received").count - 1
                }
                #expect(try await api.post("/modalities/scp/store", body: Array(ids[0].utf8)).status == 200)
                let before = try associations()
                #expect(try await api.post("/modalities/scp/store", body: Array(ids[0].utf8)).status == 200)
                #expect(try associations() == before, "reused within the delay")
                try await Task.sleep(for: .seconds(4))
                #expect(try await api.post("/modalities/scp/store", body: Array(ids[0].utf8)).status == 200)
                #expect(try associations() == before + 1, "closed after the delay, a new one opened")

                // The modality restarts while our association waits idle: the next store finds it dead at its first
                // C-STORE, opens a new one and succeeds (never a job failed for what happened between jobs).
                #expect(try await api.post("/modalities/scp/store", body: Array(ids[0].utf8)).status == 200)
                _ = await stack.stop("storescp")
                let restarted = try startStorescp(stack)
                try await waitForPort(14201)
                let afterRestart = try await api.post("/modalities/scp/store", body: Array(ids[0].utf8))
                #expect(afterRestart.status == 200, "\(String(decoding: afterRestart.body, as: UTF8.self))")
                let names = try FileManager.default.contentsOfDirectory(atPath: restarted)
                #expect(names.count == 1, "the restarted storescp received the instance: \(names)")

                // store-straight: a file sent on without being stored; not DICOM: 400; no outbound file left.
                let extra = try await TestDicomSet.make(environment, count: 1, seed: TestDicomSet.freshSeed())
                let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: extra.entries[0].File)))
                let straight = try await api.post("/modalities/scp/store-straight", body: bytes)
                #expect(straight.status == 200, "\(String(decoding: straight.body, as: UTF8.self))")
                #expect((try straight.json() as? [String: String])?["SOPInstanceUID"] == extra.entries[0].SOPInstanceUID)
                #expect(try await api.get("/instances/\(extra.entries[0].ID)").status == 404, "not stored here")
                let arrived = try FileManager.default.contentsOfDirectory(atPath: restarted)
                #expect(arrived.contains { $0.hasSuffix(extra.entries[0].SOPInstanceUID) }, "storescp has it")
                #expect(try await api.post("/modalities/scp/store-straight", body: Array("garbage".utf8)).status == 400)
                let outbound = (try? FileManager.default.contentsOfDirectory(atPath: stack.storage + "/outbound")) ?? []
                #expect(outbound.isEmpty, "outbound files are removed: \(outbound)")

                // Every run is a job in /jobs, finished.
                let jobs = try await api.json("/jobs?expand", as: [[String: Any]].self)
                #expect(jobs.count == 8)
                #expect(jobs.allSatisfy { $0["State"] as? String == "Success" && $0["Type"] as? String == "DicomModalityStore"
                        && $0["Progress"] as? Int == 100 && $0["ErrorCode"] as? Int == 0 })
            }
        }

        @Test("C-ECHO: answered, refused, silent within its Timeout; modalities from the file, PUT and DELETE on every replica; bad input")
        func echoAndModalities() async throws {
            try await IsolatedStack.with(environment, name: "jobs_echo", apiPort: 18203, indexerMetricsPort: 19203,
                                         json: Self.configuration) { stack in
                try await stack.startWorker(metricsPort: 19204)
                _ = try startStorescp(stack)
                try await waitForPort(14201)
                let api = stack.api
                let listener = try SilentListener(port: 14203)
                defer { listener.close() }

                #expect(try await api.post("/modalities/scp/echo", body: []).status == 200)
                #expect(try await api.post("/modalities/scp/echo", json: ["Timeout": 5]).status == 200)
                // CheckFind: storescp has no C-FIND, so the check fails as in Orthanc (500, the reason in the details).
                let noFind = try await api.post("/modalities/scp/echo", json: ["CheckFind": true])
                #expect(noFind.status == 500 && String(decoding: noFind.body, as: UTF8.self).contains("C-FIND"),
                        "\(noFind.status) \(String(decoding: noFind.body, as: UTF8.self))")
                #expect(try await api.post("/modalities/scp/echo", json: ["CheckFind": "yes"]).status == 400)
                let refused = try await api.post("/modalities/dead/echo", json: [String: Any]())
                #expect(refused.status == 500)
                let refusal = try #require(try refused.json() as? [String: Any])
                #expect(refusal["OrthancStatus"] as? Int == 9 && refusal["OrthancError"] as? String == "Error in the network protocol")
                #expect((refusal["Details"] as? String)?.contains("DEAD") == true, "\(refusal)")

                let started = ContinuousClock.now
                let silent = try await api.post("/modalities/silent/echo", json: [String: Any]())
                let elapsed = ContinuousClock.now - started
                #expect(silent.status == 500 && elapsed < .seconds(8), "the modality's Timeout (2 s) applies: \(elapsed)")
                let stalled = ContinuousClock.now
                let storeSilent = try await api.post("/modalities/silent/store", json: [
                    "Resources": [String](), "Timeout": 1])
                #expect(storeSilent.status == 200, "nothing to send: no association at all")
                let file = try await TestDicomSet.make(environment, count: 1, seed: TestDicomSet.freshSeed())
                let upload = try await api.post("/instances", body: [UInt8](try Data(contentsOf: URL(fileURLWithPath: file.entries[0].File))))
                #expect(upload.status == 200)
                let timedOut = try await api.post("/modalities/silent/store", json: ["Resources": [file.entries[0].ID], "Timeout": 1])
                #expect(timedOut.status == 500 && ContinuousClock.now - stalled < .seconds(8))
                // Orthanc's hidden echo jobs are not listed; the failed store is.
                let jobs = try await api.json("/jobs?expand", as: [[String: Any]].self)
                #expect(jobs.count == 2 && jobs.allSatisfy { $0["Type"] as? String == "DicomModalityStore" })

                // The modalities of the file, then PUT and DELETE, seen by a second replica.
                #expect(try await api.json("/modalities", as: [String].self) == ["dead", "scp", "silent"])
                let configuration = try await api.json("/modalities/silent/configuration")
                #expect(configuration["AET"] as? String == "SILENT" && configuration["Timeout"] as? Int == 2
                        && configuration["AllowStore"] as? Bool == true && configuration["Manufacturer"] as? String == "Generic")
                #expect(try await api.send("PUT", "/modalities/added", body: Array(#"{"AET": "ADDED", "Host": "127.0.0.1", "Port": 14201, "AllowEcho": false}"#.utf8)).status == 200)
                #expect(try await api.send("DELETE", "/modalities/dead").status == 200)
                let replica = try await environment.startReplica(port: 18204, json: Self.configuration, extra: stack.shared)
                stack.adopt("replica", replica)
                let other = RESTClient(baseURL: "http://127.0.0.1:18204")
                #expect(try await other.json("/modalities", as: [String].self) == ["added", "scp", "silent"])
                #expect(try await other.json("/modalities/added/configuration")["AllowEcho"] as? Bool == false)
                #expect(try await other.post("/modalities/added/echo", body: []).status == 200, "Allow* are for incoming requests")
                #expect(try await other.get("/modalities/dead/configuration").status == 404)

                // Bad input: unknown modality, bad bodies, unknown or malformed resources.
                #expect(try await api.post("/modalities/nope/echo", body: []).status == 404)
                #expect(try await api.post("/modalities/nope/store", json: [String]()).status == 404)
                #expect(try await api.post("/modalities/scp/store", body: Array("{bad".utf8)).status == 400)
                #expect(try await api.post("/modalities/scp/store", json: ["Resources": ["nope"]]).status == 400)
                #expect(try await api.post("/modalities/scp/store", json: ["Resources": [String(repeating: "0", count: 8) + "-00000000-00000000-00000000-00000000"]]).status == 404)
                // storescp has no storage commitment: the instance goes, then the N-ACTION fails the job, clearly.
                let noCommitment = try await api.post("/modalities/scp/store", json: ["Resources": [file.entries[0].ID], "StorageCommitment": true])
                #expect(noCommitment.status == 500 && String(decoding: noCommitment.body, as: UTF8.self).contains("storage commitment"),
                        "\(noCommitment.status) \(String(decoding: noCommitment.body, as: UTF8.self))")
                #expect(try await api.send("PUT", "/modalities/broken", body: Array(#"{"AET": 3}"#.utf8)).status == 400)
                #expect(try await api.send("PUT", "/modalities/broken", body: Array(#"["A", "h", 70000]"#.utf8)).status == 400)
                #expect(try await api.send("DELETE", "/modalities/nope").status == 404)
                #expect(try await api.get("/jobs/nope").status == 404)
                #expect(try await api.post("/jobs/nope/cancel", body: []).status == 404)
            }
        }

        @Test("Asynchronous jobs: Orthanc's JSON, pause, resume, cancel, resubmit and delete from any replica; a refusing peer fails the job")
        func jobControl() async throws {
            try await IsolatedStack.with(environment, name: "jobs_control", apiPort: 18205, indexerMetricsPort: 19205,
                                         json: Self.configuration) { stack in
                _ = try startStorescp(stack)
                try await waitForPort(14201)
                let api = stack.api
                let set = try await TestDicomSet.make(environment, count: 3, seed: TestDicomSet.freshSeed())
                for entry in set.entries {
                    #expect(try await api.post("/instances", body: [UInt8](try Data(contentsOf: URL(fileURLWithPath: entry.File)))).status == 200)
                }
                // No worker at all: a synchronous call does not wait for ever; its job is canceled, 503.
                let started = ContinuousClock.now
                let nobody = try await api.post("/modalities/scp/store", json: ["Resources": [set.entries[0].ID]])
                #expect(nobody.status == 503 && ContinuousClock.now - started < .seconds(15), "\(String(decoding: nobody.body, as: UTF8.self))")
                let abandoned = try await api.json("/jobs?expand", as: [[String: Any]].self)
                #expect(abandoned.count == 1 && abandoned.first?["ErrorCode"] as? Int == 37, "canceled: \(abandoned)")
                if let stale = abandoned.first?["ID"] as? String { _ = try await api.send("DELETE", "/jobs/\(stale)") }

                // No worker yet: the job waits, Pending.
                let submitted = try await api.post("/modalities/scp/store", json: [
                    "Resources": [set.entries[0].ParentStudy], "Asynchronous": true, "Priority": 7, "UserData": ["ticket": 42]])
                let answer = try #require(try submitted.json() as? [String: String])
                let id = try #require(answer["ID"])
                #expect(answer["Path"] == "/jobs/\(id)")
                var job = try await api.json("/jobs/\(id)")
                #expect(job["State"] as? String == "Pending" && job["Priority"] as? Int == 7 && job["Type"] as? String == "DicomModalityStore")
                #expect((job["UserData"] as? [String: Int])?["ticket"] == 42)
                #expect((job["CreationTime"] as? String)?.count == 22 && job["CompletionTime"] == nil)
                for key in ["Content", "EffectiveRuntime", "ErrorCode", "ErrorDescription", "ID", "Progress", "Timestamp"] {
                    #expect(job[key] != nil, "\(key) missing")
                }

                #expect(try await api.post("/jobs/\(id)/pause", body: []).status == 200)
                #expect(try await api.json("/jobs/\(id)")["State"] as? String == "Paused")
                #expect(try await api.post("/jobs/\(id)/resubmit", body: []).status == 400, "only a failed job")
                // A second replica controls the same job.
                let replica = try await environment.startReplica(port: 18206, json: Self.configuration, extra: stack.shared)
                stack.adopt("replica", replica)
                let other = RESTClient(baseURL: "http://127.0.0.1:18206")
                #expect(try await other.json("/jobs", as: [String].self) == [id])
                #expect(try await other.post("/jobs/\(id)/resume", body: []).status == 200)
                #expect(try await api.json("/jobs/\(id)")["State"] as? String == "Pending")
                #expect(try await other.post("/jobs/\(id)/cancel", body: []).status == 200)
                job = try await api.json("/jobs/\(id)")
                #expect(job["State"] as? String == "Failure" && job["ErrorCode"] as? Int == 37, "\(job)")
                #expect(job["CompletionTime"] != nil)
                #expect(try await api.post("/jobs/\(id)/resume", body: []).status == 400)
                #expect(try await api.send("DELETE", "/jobs/\(id)").status == 200)
                #expect(try await api.get("/jobs/\(id)").status == 404)

                // Submitted again, then run by a worker that starts afterwards; resubmitted after a failure.
                let again = try #require(try await api.post("/modalities/scp/store", json: [
                    "Resources": [set.entries[0].ParentStudy], "Asynchronous": true]).json() as? [String: String])
                let failing = try #require(try await api.post("/modalities/dead/store", json: [
                    "Resources": [set.entries[0].ID], "Asynchronous": true]).json() as? [String: String])
                let pending = try await api.post("/modalities/scp/store", json: ["Resources": [set.entries[1].ID], "Asynchronous": true])
                let pendingID = try #require((try pending.json() as? [String: String])?["ID"])
                #expect(try await api.send("DELETE", "/jobs/\(pendingID)").status == 400, "cancel it first")
                try await stack.startWorker(metricsPort: 19206)
                let done = try await waitForJob(api, again["ID"] ?? "")
                #expect(done["State"] as? String == "Success" && done["Progress"] as? Int == 100)
                let inStudy = set.entries.filter { $0.ParentStudy == set.entries[0].ParentStudy }.count
                #expect((done["Content"] as? [String: Any])?["InstancesCount"] as? Int == inStudy)
                #expect((done["EffectiveRuntime"] as? Double ?? -1) >= 0)
                let failed = try await waitForJob(api, failing["ID"] ?? "")
                #expect(failed["State"] as? String == "Failure" && failed["ErrorCode"] as? Int == 9, "\(failed)")
                #expect(failed["ErrorDescription"] as? String == "Error in the network protocol")
                #expect((failed["ErrorDetails"] as? String)?.contains("DEAD") == true)
                #expect(try await api.post("/jobs/\(failing["ID"] ?? "")/resubmit", body: []).status == 200)
                let refailed = try await waitForJob(api, failing["ID"] ?? "")
                #expect(refailed["State"] as? String == "Failure", "resubmitted and run again")
                #expect(try await waitForJob(api, pendingID)["State"] as? String == "Success")
            }
        }

        @Test("A worker killed with -9 mid-job: another worker resumes it, re-sending at most the last two instances")
        func workerKilledMidJob() async throws {
            try await IsolatedStack.with(environment, name: "jobs_kill", apiPort: 18207, indexerMetricsPort: 19207,
                                         json: Self.configuration, extra: ["TESSERA_JOB_LEASE": "3"]) { stack in
                // storescp takes a second per instance, so the job is surely mid-way when its worker dies.
                let received = try startStorescp(stack, extra: ["--sleep-during", "1"])
                try await waitForPort(14201)
                let api = stack.api
                let count = 8
                let set = try await TestDicomSet.make(environment, count: count, seed: TestDicomSet.freshSeed())
                for entry in set.entries {
                    #expect(try await api.post("/instances", body: [UInt8](try Data(contentsOf: URL(fileURLWithPath: entry.File)))).status == 200)
                }
                try await stack.startWorker("first", metricsPort: 19208)
                let submitted = try #require(try await api.post("/modalities/scp/store", json: [
                    "Resources": Array(Set(set.entries.map(\.ParentPatient))), "Asynchronous": true]).json() as? [String: String])
                let id = try #require(submitted["ID"])
                let deadline = ContinuousClock.now + .seconds(30)
                var progress = 0
                while progress < 25 && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(100))
                    progress = try await api.json("/jobs/\(id)")["Progress"] as? Int ?? 0
                }
                #expect(progress >= 25 && progress < 100, "mid-job: \(progress)%")
                _ = await stack.stop("first", signal: SIGKILL)
                let acknowledged = try await api.json("/jobs/\(id)")["Progress"] as? Int ?? 0
                try await stack.startWorker("second", metricsPort: 19209)
                let done = try await waitForJob(api, id, seconds: 60)
                #expect(done["State"] as? String == "Success", "\(done)")
                #expect((done["Content"] as? [String: Any])?["FailedInstancesCount"] as? Int == 0)
                let files = try FileManager.default.contentsOfDirectory(atPath: received)
                #expect(files.count == count, "every instance arrived: \(files.count) of \(count)")
                // storescp logged each C-STORE request: at most the one in flight at the kill and the one before it (whose
                // cursor was being written) were sent twice.
                let log = try String(contentsOfFile: try #require(stack.log(of: "storescp")), encoding: .utf8)
                let requests = log.components(separatedBy: "Received Store Request").count - 1
                #expect(requests >= count && requests <= count + 2, "\(requests) requests for \(count) instances (acknowledged \(acknowledged)% at the kill)")
            }
        }

        @Test("SaveJobs false: a job whose worker was killed fails instead of being resumed")
        func unsavedJobsFail() async throws {
            let json = String(Self.configuration.dropLast()) + #", "SaveJobs": false}"#
            try await IsolatedStack.with(environment, name: "jobs_unsaved", apiPort: 18209, indexerMetricsPort: 19240,
                                         json: json, extra: ["TESSERA_JOB_LEASE": "3"]) { stack in
                _ = try startStorescp(stack, extra: ["--sleep-during", "1"])
                try await waitForPort(14201)
                let api = stack.api
                let set = try await TestDicomSet.make(environment, count: 4, seed: TestDicomSet.freshSeed())
                for entry in set.entries {
                    #expect(try await api.post("/instances", body: [UInt8](try Data(contentsOf: URL(fileURLWithPath: entry.File)))).status == 200)
                }
                try await stack.startWorker("first", metricsPort: 19241)
                let submitted = try #require(try await api.post("/modalities/scp/store", json: [
                    "Resources": set.entries.map(\.ID), "Asynchronous": true]).json() as? [String: String])
                let id = try #require(submitted["ID"])
                let deadline = ContinuousClock.now + .seconds(20)
                while try await api.json("/jobs/\(id)")["State"] as? String != "Running" && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(100))
                }
                _ = await stack.stop("first", signal: SIGKILL)
                try await stack.startWorker("second", metricsPort: 19242)
                let job = try await waitForJob(api, id, seconds: 30)
                #expect(job["State"] as? String == "Failure", "\(job)")
                #expect((job["ErrorDetails"] as? String)?.contains("SaveJobs") == true, "\(job)")
            }
        }

        /// Polls a job until it ends.
        func waitForJob(_ api: RESTClient, _ id: String, seconds: Int = 30) async throws -> [String: Any] {
            let deadline = ContinuousClock.now + .seconds(seconds)
            while true {
                let job = try await api.json("/jobs/\(id)")
                if ["Success", "Failure"].contains(job["State"] as? String ?? "") || ContinuousClock.now > deadline { return job }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }
}

extension ClusterTests.ModalityJobTests {
    @Test("Stock Orthanc as a modality, both ways: Tessera stores a study into Orthanc, Orthanc stores it back into Tessera")
    func orthancAsModality() async throws {
        let orthancDicom = 14211, orthancHTTP = 18211
        let folder = try environment.temporaryFolder("orthanc-modality")
        let configuration = """
            {"Name": "peer", "StorageDirectory": "\(folder)/db", "IndexDirectory": "\(folder)/db", "HttpPort": \(orthancHTTP),
             "DicomPort": \(orthancDicom), "DicomAet": "ORTHANCPEER", "RemoteAccessAllowed": false, "AuthenticationEnabled": false,
             "Plugins": [], "DicomModalities": {"tessera": ["TESSERA", "127.0.0.1", 14212]}}
            """
        try configuration.write(toFile: folder + "/orthanc.json", atomically: true, encoding: .utf8)
        let json = """
            {"DicomModalities": {"orthanc": ["ORTHANCPEER", "127.0.0.1", \(orthancDicom)]}}
            """
        try await IsolatedStack.with(environment, name: "jobs_orthanc", apiPort: 18212, indexerMetricsPort: 19212,
                                     json: json) { stack in
            let orthanc = try ProcessRunner.start("Orthanc", [folder + "/orthanc.json"])
            stack.adopt("orthanc", orthanc)
            try await stack.startWorker(metricsPort: 19213)
            try await stack.startGateway(port: 14212, metricsPort: 19214)
            try await waitForPort(orthancDicom)
            let api = stack.api
            let peer = RESTClient(baseURL: "http://127.0.0.1:\(orthancHTTP)")
            let set = try await TestDicomSet.make(environment, count: 4, seed: TestDicomSet.freshSeed())
            for entry in set.entries {
                #expect(try await api.post("/instances", body: [UInt8](try Data(contentsOf: URL(fileURLWithPath: entry.File)))).status == 200)
            }
            #expect(try await api.post("/modalities/orthanc/echo", body: []).status == 200)
            let patients = Array(Set(set.entries.map(\.ParentPatient)))
            let sent = try await api.post("/modalities/orthanc/store", json: ["Resources": patients])
            #expect(sent.status == 200, "\(String(decoding: sent.body, as: UTF8.self))")
            // Orthanc computes the same public IDs, and has the same tags for each instance.
            let received = Set(try await peer.json("/instances", as: [String].self))
            #expect(received == Set(set.entries.map(\.ID)))
            for entry in set.entries {
                let theirs = try await peer.json("/instances/\(entry.ID)/simplified-tags")
                let ours = try await api.json("/instances/\(entry.ID)/simplified-tags")
                #expect(NSDictionary(dictionary: theirs).isEqual(to: ours), "tags of \(entry.ID)")
            }
            // Storage commitment, Orthanc as the SCP: the N-ACTION from the worker after the last C-STORE, the report
            // on an association Orthanc opens to Tessera's gateway, read by the API.
            func report(_ transaction: String) async throws -> [String: Any] {
                for _ in 0..<100 {
                    let answer = try await api.json("/storage-commitment/\(transaction)")
                    if answer["Status"] as? String != "Pending" { return answer }
                    try await Task.sleep(for: .milliseconds(100))
                }
                return try await api.json("/storage-commitment/\(transaction)")
            }
            let committed = try await api.post("/modalities/orthanc/store", json: ["Resources": patients, "StorageCommitment": true])
            #expect(committed.status == 200, "\(String(decoding: committed.body, as: UTF8.self))")
            let transaction = try #require((try committed.json() as? [String: Any])?["StorageCommitmentTransactionUID"] as? String)
            #expect(transaction.hasPrefix("2.25."))
            let success = try await report(transaction)
            #expect(success["Status"] as? String == "Success" && success["RemoteAET"] as? String == "ORTHANCPEER", "\(success)")
            let committedUIDs = Set((success["Success"] as? [[String: String]] ?? []).compactMap { $0["SOPInstanceUID"] })
            #expect(committedUIDs == Set(set.entries.map(\.SOPInstanceUID)))
            #expect((success["Failures"] as? [Any])?.isEmpty == true)
            // The standalone request: an instance Orthanc has (by Orthanc ID) and one it does not (by UIDs).
            let sopClass = String(decoding: try await api.get("/instances/\(set.entries[0].ID)/metadata/SopClassUid").body, as: UTF8.self)
            let asked = try await api.post("/modalities/orthanc/storage-commitment", json: [
                "Resources": [set.entries[0].ID], "DicomInstances": [["SOPClassUID": sopClass, "SOPInstanceUID": "1.2.3.4.5.6.7.8.9"]]])
            #expect(asked.status == 200, "\(String(decoding: asked.body, as: UTF8.self))")
            let partial = try #require(try asked.json() as? [String: String])
            let partialID = try #require(partial["ID"])
            #expect(partial["Path"] == "/storage-commitment/\(partialID)")
            let failed = try await report(partialID)
            #expect(failed["Status"] as? String == "Failure", "\(failed)")
            #expect((failed["Success"] as? [[String: String]])?.map { $0["SOPInstanceUID"] } == [set.entries[0].SOPInstanceUID])
            let failure = try #require((failed["Failures"] as? [[String: Any]])?.first)
            #expect(failure["SOPInstanceUID"] as? String == "1.2.3.4.5.6.7.8.9" && failure["FailureReason"] as? Int == 0x0112)
            #expect(failure["Description"] as? String == "One or more of the elements in the Referenced SOP Instance Sequence was not available")
            #expect(try await api.post("/storage-commitment/\(partialID)/remove", body: []).status == 500)
            // Bad input.
            #expect(try await api.get("/storage-commitment/1.2.3").status == 404)
            #expect(try await api.post("/modalities/orthanc/storage-commitment", json: [String: Any]()).status == 400)
            #expect(try await api.post("/modalities/orthanc/storage-commitment", json: ["DicomInstances": [1]]).status == 400)
            #expect(try await api.post("/modalities/orthanc/store", json: ["Resources": patients, "StorageCommitment": "yes"]).status == 400)
            // A report for a transaction nobody asked for is refused (0x0110); the known one is untouched. From an AE
            // title that is no modality the association is aborted (Orthanc's access rules: no DicomAlwaysAllow for it).
            let environment = self.environment
            let report: @Sendable (String) async throws -> String = { aet in
                try await ProcessRunner.run(environment.python, ["-c", """
                    import sys
                    from pynetdicom import AE, build_role
                    from pydicom.dataset import Dataset
                    ae = AE(ae_title=sys.argv[2])
                    ae.add_requested_context("1.2.840.10008.1.20.1")
                    assoc = ae.associate("127.0.0.1", 14212, ae_title="TESSERA", ext_neg=[build_role("1.2.840.10008.1.20.1", scp_role=True)])
                    ds = Dataset()
                    ds.TransactionUID = sys.argv[1]
                    item = Dataset()
                    item.ReferencedSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
                    item.ReferencedSOPInstanceUID = "1.2.3"
                    ds.ReferencedSOPSequence = [item]
                    answers = []
                    for uid in (sys.argv[1], "2.25.42"):
                        ds.TransactionUID = uid
                        status, _ = assoc.send_n_event_report(ds, 1, "1.2.840.10008.1.20.1", "1.2.840.10008.1.20.1.1")
                        answers.append(hex(status.Status) if status else "none")
                    if assoc.is_established:
                        assoc.release()
                    print(" ".join(answers))
                    """, "2.25.999", aet]).output
            }
            let fromPeer = try await report("ORTHANCPEER")
            #expect(fromPeer.contains("0x110 0x110"), "\(fromPeer)")
            let stranger = try await report("INTRUDER")
            #expect(stranger.contains("none none"), "\(stranger)")
            #expect(try await api.get("/storage-commitment/2.25.42").status == 404)

            // Removing what the peer committed to deletes it here.
            #expect(try await api.post("/storage-commitment/\(transaction)/remove", body: []).status == 200)
            #expect(try await api.json("/instances", as: [String].self).isEmpty)

            // The other way: Orthanc's C-STORE SCU into Tessera's gateway (they were deleted here above).
            let back = try await peer.post("/modalities/tessera/store", json: ["Resources": patients, "Synchronous": true])
            #expect(back.status == 200, "\(String(decoding: back.body, as: UTF8.self))")
            #expect(try await api.waitForInstances(Set(set.entries.map(\.ID)), seconds: 30) == Set(set.entries.map(\.ID)))
        }
    }
}
