import Foundation
import Testing

extension ClusterTests {
    /// `/instances/{id}/tags`, `/simplified-tags`, `/header` against the JSON stock Orthanc 1.10.1 printed for the
    /// same files (Tests/UnitTests/Fixtures/tags, recorded by scripts/orthanc-tag-fixtures.py).
    @Suite("Tag routes at Orthanc fidelity", .serialized)
    struct TagRouteTests {
        let environment: TestEnvironment
        let api: RESTClient
        let folder: String

        init() throws {
            environment = try TestEnvironment.load()
            api = RESTClient(baseURL: environment.apiURL)
            folder = environment.repository + "/Tests/UnitTests/Fixtures/tags"
        }

        /// The fixture files, sorted; several share their UIDs (Orthanc keeps the first one stored).
        func fixtureFiles() throws -> [String] {
            try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".dcm") }.sorted()
        }

        func routes(of file: String) throws -> [String: Any] {
            let data = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/\(file).json"))
            let fixture = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            return try #require(fixture["Routes"] as? [String: Any])
        }

        func same(_ answer: RESTClient.Answer, _ expected: Any?) throws -> Bool {
            guard answer.status == 200, let expected else { return false }
            let mine = try JSONSerialization.jsonObject(with: Data(answer.body))
            return NSDictionary(dictionary: ["v": mine]).isEqual(to: ["v": expected])
        }

        @Test("Uploaded files: every tag route equals stock Orthanc's answer, charset, sequences, private and binary tags included")
        func uploaded() async throws {
            let files = try fixtureFiles().filter { $0 != "rtplan.dcm" }
            #expect(files.count >= 15)
            var firstByID: [String: String] = [:]
            for file in files {
                let answer = try await api.post("/instances", body: [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(folder)/\(file)"))))
                #expect(answer.status == 200, "\(file)")
                let id = try #require((try answer.json() as? [String: String])?["ID"])
                if firstByID[id] == nil { firstByID[id] = file }
            }
            for (id, file) in firstByID.sorted(by: { $0.value < $1.value }) {
                let expected = try routes(of: file)
                for route in ["tags", "tags?simplify", "tags?short", "simplified-tags", "header", "header?simplify", "header?short"] {
                    let answer = try await api.get("/instances/\(id)/\(route)")
                    #expect(try same(answer, expected[route]), "\(file) /\(route): \(answer.status)")
                }
                #expect(try same(try await api.get("/instances/\(id)/tags?format=Short"), expected["tags?short"]), "\(file)")
            }
        }

        @Test("A file received by C-STORE: /tags equals stock Orthanc's for the same file; /header is the gateway's own")
        func received() async throws {
            let outcome = try await StoreSCU(environment: environment).send(["\(folder)/rtplan.dcm"])
            #expect(StoreSCU.successes(outcome) == 1, "\(outcome.output)")
            let expected = try routes(of: "rtplan.dcm")
            let tags = try #require(expected["tags?short"] as? [String: Any])
            let sop = try #require(tags["0008,0018"] as? String)
            // Find it by its SOP Instance UID among the instances (the expand list carries the main tags).
            var id: String?
            for _ in 0..<100 where id == nil {
                let list = try #require(try await api.get("/instances?expand").json() as? [[String: Any]])
                id = list.first { ($0["MainDicomTags"] as? [String: Any])?["SOPInstanceUID"] as? String == sop }?["ID"] as? String
                if id == nil { try await Task.sleep(for: .milliseconds(100)) }
            }
            let instance = try #require(id)
            for route in ["tags", "tags?simplify", "tags?short", "simplified-tags"] {
                #expect(try same(try await api.get("/instances/\(instance)/\(route)"), expected[route]), "/\(route)")
            }
            let header = try #require(try await api.get("/instances/\(instance)/header?short").json() as? [String: String])
            #expect(header["0002,0003"] == sop)
            #expect(header["0002,0010"]?.hasPrefix("1.2.840.10008.1.2") == true)
        }

        @Test("Unknown instance: 404; an unknown format: 400 with Orthanc's error JSON")
        func errors() async throws {
            #expect(try await api.get("/instances/00000000-00000000-00000000-00000000-00000000/tags").status == 404)
            #expect(try await api.get("/instances/not-an-id/header").status == 404)
            let id = try #require(try await api.json("/instances", as: [String].self).first)
            let answer = try await api.get("/instances/\(id)/tags?format=bogus")
            #expect(answer.status == 400)
            let error = try #require(try answer.json() as? [String: Any])
            #expect(error["OrthancStatus"] as? Int == 3)
            #expect(error["HttpStatus"] as? Int == 400)
        }

        @Test("?ignore-length lifts TooLong for the tags named; ?whole shows the elements after the pixel data")
        func ignoreLengthAndWhole() async throws {
            let file = try environment.temporaryFolder("tags-long") + "/long.dcm"
            try FileManager.default.copyItem(atPath: "\(folder)/CT_small.dcm", toPath: file)
            let comment = String(repeating: "x", count: 300)
            let edit = try await ProcessRunner.run("dcmodify", ["-nb", "-i", "ImageComments=\(comment)", "-i", "SOPInstanceUID=1.2.826.0.1.3680043.8.498.42",
                                                                // A patient, study and series of its own: the shared cluster's others stay as they are.
                                                                "-i", "PatientID=TAGS-LONG", "-i", "StudyInstanceUID=1.2.826.0.1.3680043.8.498.43",
                                                                "-i", "SeriesInstanceUID=1.2.826.0.1.3680043.8.498.44",
                                                                "-i", "(7fe1,0010)=TAILCREATOR", file], timeout: .seconds(30))
            #expect(edit.status == 0, "\(edit.output)")
            let upload = try await api.post("/instances", body: [UInt8](try Data(contentsOf: URL(fileURLWithPath: file))))
            let id = try #require((try upload.json() as? [String: Any])?["ID"] as? String)
            let plain = try await api.json("/instances/\(id)/tags")
            #expect((plain["0020,4000"] as? [String: Any])?["Type"] as? String == "TooLong")
            #expect(plain["7fe1,0010"] == nil, "after the pixel data: not shown by default")
            let lifted = try await api.json("/instances/\(id)/tags?ignore-length=ImageComments,0010-0010")
            #expect((lifted["0020,4000"] as? [String: Any])?["Value"] as? String == comment)
            #expect(try await api.json("/instances/\(id)/simplified-tags?ignore-length=0020-4000")["ImageComments"] as? String == comment)
            #expect(try await api.get("/instances/\(id)/tags?ignore-length=NoSuchTag").status == 400)
            let whole = try await api.json("/instances/\(id)/tags?whole")
            #expect((whole["7fe1,0010"] as? [String: Any])?["Value"] as? String == "TAILCREATOR")
            #expect(whole["7fe0,0010"] != nil)
        }
    }
}
