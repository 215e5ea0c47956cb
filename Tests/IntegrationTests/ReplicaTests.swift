import Foundation
import Testing

extension ClusterTests {
    /// A second REST replica on the same index, broker and storage.
    @Suite("A second API replica", .serialized)
    struct ReplicaTests {
        let environment: TestEnvironment
        let api: RESTClient

        init() throws {
            environment = try TestEnvironment.load()
            api = RESTClient(baseURL: environment.apiURL)
        }

        @Test("Uploads through either replica are readable through both; OverwriteInstances replaces the first copy")
        func overwriteThroughSecondReplica() async throws {
            let seed = TestDicomSet.freshSeed()
            let original = try #require(try await TestDicomSet.make(environment, count: 1, seed: seed).entries.first)
            let modified = try #require(try await TestDicomSet.make(environment, count: 1, seed: seed,
                                                                    omitting: ["ImagePositionPatient"]).entries.first)
            #expect(modified.ID == original.ID, "same UIDs, different content")
            let originalBytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: original.File)))
            let modifiedBytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: modified.File)))

            let port = 18_945
            let process = try await environment.startReplica(port: port, json: #"{"OverwriteInstances": true}"#)
            defer { kill(process.pid, SIGKILL) }
            let replica = RESTClient(baseURL: "http://127.0.0.1:\(port)")

            let first = try await api.post("/instances", body: originalBytes)
            #expect((try first.json() as? [String: String])?["Status"] == "Success")
            #expect(try await replica.get("/instances/\(original.ID)").status == 200, "visible through the other replica")
            let before = try await replica.json("/instances/\(original.ID)")
            #expect((before["MainDicomTags"] as? [String: String])?["ImagePositionPatient"] != nil)

            let second = try await replica.post("/instances", body: modifiedBytes)
            #expect((try second.json() as? [String: String])?["Status"] == "Success")
            let after = try await api.json("/instances/\(original.ID)")
            #expect((after["MainDicomTags"] as? [String: String])?["ImagePositionPatient"] == nil)
            #expect(try await api.get("/instances/\(original.ID)/file").body == modifiedBytes)
            #expect(after["FileUuid"] as? String != before["FileUuid"] as? String)

            // Without OverwriteInstances the first copy wins.
            let third = try await api.post("/instances", body: originalBytes)
            #expect((try third.json() as? [String: String])?["Status"] == "AlreadyStored")
            #expect(try await api.get("/instances/\(original.ID)/file").body == modifiedBytes)
            let ids = try await api.json("/instances", as: [String].self)
            #expect(ids.filter { $0 == original.ID }.count == 1)
        }
    }
}
