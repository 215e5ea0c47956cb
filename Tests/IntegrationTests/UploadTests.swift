import Foundation
import Testing

extension ClusterTests {
    /// `POST /instances`: DICOM and ZIP bodies, readable at once, bad bodies refused.
    @Suite("Uploads through the REST API", .serialized)
    struct UploadTests {
        let environment: TestEnvironment
        let api: RESTClient

        init() throws {
            environment = try TestEnvironment.load()
            api = RESTClient(baseURL: environment.apiURL)
        }

        func bytes(_ path: String) throws -> [UInt8] {
            [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        }

        @Test("A DICOM body: Success, readable at once and byte-identical, then AlreadyStored")
        func upload() async throws {
            let entry = try #require(try await TestDicomSet.make(environment, count: 1, seed: TestDicomSet.freshSeed()).entries.first)
            let file = try bytes(entry.File)
            let answer = try await api.post("/instances", body: file)
            #expect(answer.status == 200)
            let json = try #require(try answer.json() as? [String: String])
            #expect(json == ["ID": entry.ID, "ParentPatient": entry.ParentPatient, "ParentStudy": entry.ParentStudy,
                             "ParentSeries": entry.ParentSeries, "Path": "/instances/\(entry.ID)", "Status": "Success"])
            // No waiting: the answer came after indexing.
            #expect(try await api.get("/instances/\(entry.ID)").status == 200)
            #expect(try await api.get("/instances/\(entry.ID)/file").body == file)
            let metadata = try await api.json("/instances/\(entry.ID)/metadata?expand", as: [String: String].self)
            #expect(metadata["Origin"] == "RestApi")
            #expect(metadata["RemoteIP"] == "127.0.0.1")
            let again = try await api.post("/instances", body: file)
            #expect((try again.json() as? [String: String])?["Status"] == "AlreadyStored")
        }

        @Test("A ZIP body: every DICOM file inside is stored, other entries are skipped")
        func zip() async throws {
            let set = try await TestDicomSet.make(environment, count: 3, seed: TestDicomSet.freshSeed())
            let archive = set.folder + "/upload.zip"
            let script = """
                import sys, zipfile
                with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
                    for i, f in enumerate(sys.argv[2:]): z.write(f, f"dir/{i}.dcm")
                    z.writestr("README.txt", "not DICOM")
                """
            let outcome = try await ProcessRunner.run(environment.python, ["-c", script, archive] + set.entries.map(\.File))
            #expect(outcome.status == 0, "\(outcome.output)")
            let answer = try await api.post("/instances", body: try bytes(archive))
            #expect(answer.status == 200)
            let items = try #require(try answer.json() as? [[String: String]])
            #expect(Set(items.compactMap { $0["ID"] }) == Set(set.entries.map(\.ID)))
            #expect(items.allSatisfy { $0["Status"] == "Success" })
            for entry in set.entries {
                #expect(try await api.get("/instances/\(entry.ID)").status == 200)
            }
        }

        @Test("Bad bodies get 400 with Orthanc's error and store nothing")
        func badBodies() async throws {
            let entry = try #require(try await TestDicomSet.make(environment, count: 1, seed: TestDicomSet.freshSeed()).entries.first)
            let file = try bytes(entry.File)
            let missingUID = try #require(try await TestDicomSet.make(environment, count: 1, seed: TestDicomSet.freshSeed(),
                                                                      omitting: ["SeriesInstanceUID"]).entries.first)
            let bodies: [(String, [UInt8])] = [
                ("not DICOM", Array("hello, this is not DICOM".utf8)),
                ("empty", []),
                ("truncated", Array(file.prefix(file.count / 2))),
            ]
            for (name, body) in bodies {
                let answer = try await api.post("/instances", body: body)
                #expect(answer.status == 400, "\(name)")
                let error = try #require(try answer.json() as? [String: Any], "\(name)")
                #expect(error["OrthancStatus"] as? Int == 15, "\(name)")
                #expect(error["HttpStatus"] as? Int == 400, "\(name)")
                #expect(error["Method"] as? String == "POST", "\(name)")
                #expect(error["Uri"] as? String == "/instances", "\(name)")
            }
            // Orthanc 1.10.1 answers a file without one of the UIDs with 404 "Inexistent tag".
            let answer = try await api.post("/instances", body: try bytes(missingUID.File))
            #expect(answer.status == 404)
            let error = try #require(try answer.json() as? [String: Any])
            #expect(error["OrthancStatus"] as? Int == 21)
            #expect(error["Message"] as? String == "Inexistent tag")
            #expect(try await api.get("/instances/\(entry.ID)").status == 404, "the truncated copy must not be indexed")
            #expect(try await api.get("/health").status == 200)
        }
    }
}
