import Foundation
import Testing

extension ClusterTests {
    /// Archives and media against what stock Orthanc 1.10.1 answered for the same files
    /// (Tests/UnitTests/Fixtures/resources/archives.json): entry names and order, entry bytes (the stored files),
    /// DICOMDIR records. Entries are stored rather than deflated, and archives are streamed with data descriptors;
    /// standard readers see the same content.
    @Suite("Archives and media at Orthanc fidelity", .serialized)
    struct ArchiveFixtureTests {
        let environment: TestEnvironment
        let folder: String

        init() throws {
            environment = try TestEnvironment.load()
            folder = environment.repository + "/Tests/UnitTests/Fixtures"
        }

        /// Cases Tessera cannot replay: files Orthanc derived with /modify (not in the fixtures; the asynchronous cases use them too,
        /// see `asynchronous()`), and media of a file without meta header, where Orthanc sends a truncated 200 and Tessera a
        /// clear 400 before anything is sent.
        static func skipped(_ recorded: [String: Any]) -> Bool {
            let sources = (recorded["details"] as? [[String: Any]] ?? []).compactMap { $0["source"] as? String }
            let name = recorded["name"] as? String ?? ""
            return sources.contains { $0.hasPrefix("derived") } || name.hasPrefix("asynchronous") || name.contains("rtstruct")
        }

        @Test("Every recorded archive and medium has the entries, bytes and DICOMDIR records stock Orthanc gave")
        func recorded() async throws {
            let scratch = try environment.temporaryFolder("archives")
            try await IsolatedStack.with(environment, name: "tessera_archives", apiPort: 18054, indexerMetricsPort: 19113,
                                                      extra: ["ORTHANC__STABLE_AGE": "100000"]) { stack in
                #expect(try await stack.uploadTagFixtures().isEmpty)
                let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/resources/archives.json"))
                let cases = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
                var compared = 0
                for recorded in cases where !Self.skipped(recorded) {
                    let name = recorded["name"] as? String ?? "?"
                    let path = try #require(recorded["path"] as? String)
                    let method = recorded["method"] as? String ?? "GET"
                    let body = try (recorded["body"]).flatMap { $0 is NSNull ? nil : $0 }
                        .map { [UInt8](try JSONSerialization.data(withJSONObject: $0, options: [.fragmentsAllowed])) }
                    let answer = try await stack.api.send(method, path, body: body)
                    let status = try #require(recorded["status"] as? Int)
                    #expect(answer.status == status, "\(name): \(answer.status) \(String(decoding: answer.body.prefix(300), as: UTF8.self))")
                    compared += 1
                    guard status == 200, answer.status == 200 else { continue }
                    let headers = recorded["headers"] as? [String: String] ?? [:]
                    #expect(answer.header("content-type") == headers["content-type"], "\(name)")
                    #expect(answer.header("content-disposition") == headers["content-disposition"], "\(name)")
                    let zip = "\(scratch)/\(compared).zip"
                    try Data(answer.body).write(to: URL(fileURLWithPath: zip))
                    let outcome = try await ProcessRunner.run(environment.python, [environment.repository + "/Tests/interop/zip_report.py", zip])
                    let report = try #require(try JSONSerialization.jsonObject(with: Data(outcome.output.utf8)) as? [String: Any], "\(outcome.output)")
                    #expect(report["crcOk"] as? Bool == true, "\(name)")
                    #expect(report["entries"] as? [String] == recorded["entries"] as? [String], "\(name): \(report["entries"] ?? "none")")
                    let digests = report["md5"] as? [String: String] ?? [:]
                    for detail in recorded["details"] as? [[String: Any]] ?? [] {
                        guard let entry = detail["name"] as? String, let md5 = detail["md5"] as? String else { continue }
                        #expect(digests[entry] == md5, "\(name): \(entry)")
                    }
                    if let expected = recorded["dicomdir"] as? [[String: Any]], !expected.isEmpty || report["dicomdir"] != nil {
                        let mine = report["dicomdir"] as? [[String: Any]] ?? []
                        #expect(NSArray(array: mine).isEqual(to: expected), "\(name): \(mine)")
                        let header = report["dicomdirHeader"] as? [String: Any] ?? [:]
                        let expectedHeader = recorded["dicomdirHeader"] as? [String: Any] ?? [:]
                        #expect(NSDictionary(dictionary: header).isEqual(to: expectedHeader), "\(name): \(header)")
                    }
                }
                #expect(compared >= 10)
                // A file that cannot go on a medium (no meta header): a clear error, nothing half-sent.
                let rtstruct = try #require(cases.first { ($0["name"] as? String ?? "").hasPrefix("media of rtstruct") }?["path"] as? String)
                let refused = try await stack.api.get(rtstruct)
                #expect(refused.status == 400 && (try? refused.json() as? [String: Any])?["OrthancStatus"] as? Int == 15)
            }
        }

        @Test("Asynchronous archives and media run as jobs: Orthanc's content, /jobs/{id}/archive from any replica, the same entries as the streamed answer")
        func asynchronous() async throws {
            let scratch = try environment.temporaryFolder("async-archives")
            try await IsolatedStack.with(environment, name: "tessera_async_archives", apiPort: 18055, indexerMetricsPort: 19114) { stack in
                try await stack.startWorker(metricsPort: 19115)
                let api = stack.api
                let set = try await TestDicomSet.make(environment, count: 4, seed: TestDicomSet.freshSeed())
                var sizes: [String: Int] = [:]
                for entry in set.entries {
                    let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: entry.File)))
                    sizes[entry.ID] = bytes.count
                    #expect(try await api.post("/instances", body: bytes).status == 200)
                }
                let study = set.entries[0].ParentStudy
                let inStudy = set.entries.filter { $0.ParentStudy == study }

                func finished(_ id: String) async throws -> [String: Any] {
                    for _ in 0..<200 {
                        let job = try await api.json("/jobs/\(id)")
                        if ["Success", "Failure"].contains(job["State"] as? String) { return job }
                        try await Task.sleep(for: .milliseconds(100))
                    }
                    return try await api.json("/jobs/\(id)")
                }
                func entries(_ body: [UInt8], _ name: String) async throws -> [String: Any] {
                    let zip = "\(scratch)/\(name).zip"
                    try Data(body).write(to: URL(fileURLWithPath: zip))
                    let outcome = try await ProcessRunner.run(environment.python, [environment.repository + "/Tests/interop/zip_report.py", zip])
                    return try #require(try JSONSerialization.jsonObject(with: Data(outcome.output.utf8)) as? [String: Any], "\(outcome.output)")
                }

                // The study's archive: {ID, Path} at once, then the job as Orthanc shows it.
                let submitted = try await api.post("/studies/\(study)/archive", json: ["Asynchronous": true, "Priority": 3])
                #expect(submitted.status == 200)
                let answer = try #require(try submitted.json() as? [String: String])
                let id = try #require(answer["ID"])
                #expect(answer["Path"] == "/jobs/\(id)")
                let job = try await finished(id)
                #expect(job["State"] as? String == "Success" && job["Type"] as? String == "Archive" && job["Progress"] as? Int == 100, "\(job)")
                #expect(job["Priority"] as? Int == 3)
                let content = try #require(job["Content"] as? [String: Any])
                #expect(content["Description"] as? String == "REST API" && content["InstancesCount"] as? Int == inStudy.count)
                #expect(content["UncompressedSize"] as? String == String(inStudy.compactMap { sizes[$0.ID] }.reduce(0, +)), "\(content)")
                let archive = try await api.get("/jobs/\(id)/archive")
                #expect(archive.status == 200 && archive.header("content-type") == "application/zip")
                #expect(archive.header("content-disposition") == "filename=\"archive.zip\"")
                #expect(content["ArchiveSize"] as? String == String(archive.body.count))
                let streamed = try await api.get("/studies/\(study)/archive")
                let fromJob = try await entries(archive.body, "job"), fromStream = try await entries(streamed.body, "stream")
                #expect(fromJob["crcOk"] as? Bool == true)
                #expect(fromJob["entries"] as? [String] == fromStream["entries"] as? [String] && (fromJob["entries"] as? [String])?.count == inStudy.count)
                #expect(fromJob["md5"] as? [String: String] == fromStream["md5"] as? [String: String])

                // Another replica serves the output (it lives on the shared storage).
                let replica = try await environment.startReplica(port: 18056, json: "{}", extra: stack.shared)
                stack.adopt("replica", replica)
                let other = RESTClient(baseURL: "http://127.0.0.1:18056")
                #expect(try await other.get("/jobs/\(id)/archive").body == archive.body)

                // A medium of every resource, through /tools/create-media.
                let media = try #require(try await api.post("/tools/create-media", json: [
                    "Resources": Array(Set(set.entries.map(\.ParentPatient))), "Synchronous": false]).json() as? [String: String])
                let mediaID = try #require(media["ID"])
                let mediaJob = try await finished(mediaID)
                #expect(mediaJob["State"] as? String == "Success" && mediaJob["Type"] as? String == "Media", "\(mediaJob)")
                #expect((mediaJob["Content"] as? [String: Any])?["InstancesCount"] as? Int == set.entries.count)
                let medium = try await entries(try await api.get("/jobs/\(mediaID)/archive").body, "media")
                #expect((medium["entries"] as? [String])?.last == "DICOMDIR" && (medium["entries"] as? [String])?.count == set.entries.count + 1)

                // Outputs: only "archive", only once finished; gone with the job.
                let nope = try await api.get("/jobs/\(id)/nope")
                let nopeDetails = (try nope.json() as? [String: Any])?["Details"] as? String
                #expect(nope.status == 404 && nopeDetails == "Job has no such output: nope")
                #expect(try await api.send("DELETE", "/jobs/\(mediaID)").status == 200)
                #expect(try await api.get("/jobs/\(mediaID)/archive").status == 404)
                #expect(try await api.post("/studies/\(study)/archive", json: ["Asynchronous": true, "Transcode": "1.2.3"]).status == 400)
                let transcoding = try await api.post("/studies/\(study)/archive", json: ["Asynchronous": true,
                                                                                         "Transcode": "1.2.840.10008.1.2.4.80"])
                let transcodingJob = try transcoding.json() as? [String: Any]
                #expect(transcoding.status == 200 && transcodingJob?["ID"] != nil, "\(transcoding.text)")
                #expect(try await api.post("/studies/\(study)/archive", json: ["Asynchronous": "yes"]).status == 400)
            }
        }
    }
}
