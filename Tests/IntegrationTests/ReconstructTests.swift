import Foundation
import Testing

extension ClusterTests {
    /// Orthanc's reconstruction: main tags read again from the stored files, metadata and the change log untouched.
    @Suite("Reconstruction of main tags", .serialized)
    struct ReconstructTests {
        let environment: TestEnvironment

        init() throws {
            environment = try TestEnvironment.load()
        }

        @Test("A file changed on storage: reconstruct shows its tags at every level, LimitToThisLevelMainDicomTags only one")
        func reconstruct() async throws {
            try await IsolatedStack.with(environment, name: "tessera_reconstruct", apiPort: 18966, indexerMetricsPort: 19966,
                                         json: #"{"UserMetadata": {"Sample": 1024}}"#) { stack in
                let api = stack.api
                let upload = try await api.post("/instances", body: [UInt8](try Data(contentsOf: URL(fileURLWithPath:
                    environment.repository + "/Tests/UnitTests/Fixtures/tags/CT_small.dcm"))))
                let answer = try #require(try upload.json() as? [String: Any])
                let (instance, series, study) = (try #require(answer["ID"] as? String), try #require(answer["ParentSeries"] as? String),
                                                 try #require(answer["ParentStudy"] as? String))
                _ = try await api.waitForInstances([instance])
                #expect(try await api.send("PUT", "/instances/\(instance)/metadata/Sample", body: Array("kept".utf8)).status == 200)
                let uuid = try #require(try await api.json("/instances/\(instance)/attachments/dicom/info")["Uuid"] as? String)
                let path = stack.storage + "/" + uuid.prefix(2) + "/" + uuid.dropFirst(2).prefix(2) + "/" + uuid
                let edit = try await ProcessRunner.run("dcmodify", ["-nb", "-i", "StudyDescription=REBUILT", "-i", "SeriesDescription=NEWSERIES",
                                                                    "-i", "PatientName=Rebuilt^Patient", path], timeout: .seconds(30))
                #expect(edit.status == 0, "\(edit.output)")
                let changesBefore = try await api.changes().count

                // Only the series' own tags with LimitToThisLevelMainDicomTags.
                #expect(try await api.post("/series/\(series)/reconstruct", json: ["LimitToThisLevelMainDicomTags": true]).status == 200)
                #expect((try await api.json("/series/\(series)")["MainDicomTags"] as? [String: Any])?["SeriesDescription"] as? String == "NEWSERIES")
                #expect((try await api.json("/studies/\(study)")["MainDicomTags"] as? [String: Any])?["StudyDescription"] as? String != "REBUILT")

                let rebuilt = try await api.send("POST", "/studies/\(study)/reconstruct")
                #expect(rebuilt.status == 200)
                #expect(rebuilt.body.isEmpty)
                #expect((try await api.json("/studies/\(study)")["MainDicomTags"] as? [String: Any])?["StudyDescription"] as? String == "REBUILT")
                #expect((try await api.json("/studies/\(study)")["PatientMainDicomTags"] as? [String: Any])?["PatientName"] as? String == "Rebuilt^Patient")
                let found = try await api.post("/tools/find", json: ["Level": "Study", "Query": ["PatientName": "REBUILT*", "StudyDescription": "rebuilt"]])
                #expect((try found.json() as? [String]) == [study], "find sees the rebuilt tags")
                #expect(try await api.get("/instances/\(instance)/metadata/Sample").text == "kept", "metadata are kept")
                #expect(try await api.changes().count == changesBefore, "no change is logged")
                #expect(try await api.send("POST", "/tools/reconstruct").status == 200)

                let bad = try await api.post("/studies/\(study)/reconstruct", json: ["ReconstructFiles": "yes"])
                #expect(bad.status == 400)
                #expect((try bad.json() as? [String: Any])?["Details"] as? String == "The field ReconstructFiles must contain a Boolean")
                #expect(try await api.send("POST", "/studies/\(study)/reconstruct", body: Array("not json".utf8)).status == 200)
                #expect(try await api.get("/studies/\(study)/reconstruct").status == 405)
                #expect(try await api.send("POST", "/studies/00000000-00000000-00000000-00000000-00000000/reconstruct").status == 404)
            }
        }
    }
}
