import Foundation
import Testing

extension ClusterTests {
    /// Orthanc's patient protection and storage limits (`MaximumPatientCount`, `MaximumStorageMode`), through REST
    /// uploads and DCMTK's storescu, as Orthanc 1.12 answers: recycling deletes the least recently stored unprotected
    /// patient; what cannot be made room for is refused (HTTP 507 "The file storage is full", C-STORE 0xA700) and
    /// leaves nothing behind.
    @Suite("Patient protection and storage limits", .serialized)
    struct StorageLimitTests {
        let environment: TestEnvironment

        init() throws {
            environment = try TestEnvironment.load()
        }

        static let apiPort = 18964
        static let dicomPort = 14964

        func withStack(_ json: String, _ body: (IsolatedStack) async throws -> Void) async throws {
            try await IsolatedStack.with(environment, name: "tessera_limits", apiPort: Self.apiPort, indexerMetricsPort: 19964,
                                         json: json) { stack in
                try await stack.startGateway(port: Self.dicomPort, metricsPort: 19965, aeTitle: "LIMITS")
                try await body(stack)
            }
        }

        func file(_ name: String) -> String { environment.repository + "/Tests/UnitTests/Fixtures/tags/" + name }

        /// Uploads a fixture; returns (status, instance ID, patient ID, body).
        func upload(_ api: RESTClient, _ name: String) async throws -> (Int, String?, String?, [String: Any]) {
            let answer = try await api.post("/instances", body: [UInt8](try Data(contentsOf: URL(fileURLWithPath: file(name)))))
            let body = (try? answer.json() as? [String: Any]) ?? [:]
            return (answer.status, body["ID"] as? String, body["ParentPatient"] as? String, body)
        }

        func storescu(_ name: String) async throws -> ProcessRunner.Outcome {
            try await ProcessRunner.run("storescu", ["-v", "-aec", "LIMITS", "-aet", "TESTSCU", "127.0.0.1", String(Self.dicomPort), file(name)],
                                        timeout: .seconds(60))
        }

        /// Waits until the patients listed are `expected`.
        func patients(_ api: RESTClient, becoming expected: Set<String>) async throws -> Set<String> {
            var listed = Set<String>()
            for _ in 0..<120 {
                listed = Set(try await api.json("/patients", as: [String].self))
                if listed == expected { break }
                try await Task.sleep(for: .milliseconds(250))
            }
            return listed
        }

        @Test("Recycle: the oldest unprotected patient goes; protected ones stay; nothing recyclable is 507 and C-STORE 0xA700")
        func recycle() async throws {
            try await withStack(#"{"MaximumPatientCount": 2}"#) { stack in
                let api = stack.api
                let system = try await api.json("/system")
                #expect(system["MaximumPatientCount"] as? Int == 2)
                #expect(system["MaximumStorageMode"] as? String == "Recycle")
                let (_, ctInstance, a, _) = try await upload(api, "CT_small.dcm")
                let (_, _, b, _) = try await upload(api, "MR_small_RLE.dcm")
                let (patientA, patientB) = (try #require(a), try #require(b))
                _ = try await api.waitForInstances([try #require(ctInstance)])
                #expect(try await patients(api, becoming: [patientA, patientB]) == [patientA, patientB])

                // Protection: plain text 0/1, Orthanc's errors.
                #expect(try await api.get("/patients/\(patientA)/protected").text == "0")
                #expect(try await api.send("PUT", "/patients/\(patientA)/protected", body: Array(" 1 ".utf8)).status == 200)
                #expect(try await api.get("/patients/\(patientA)/protected").text == "1")
                let bad = try await api.send("PUT", "/patients/\(patientA)/protected", body: Array("yes".utf8))
                #expect(bad.status == 400)
                #expect((try bad.json() as? [String: Any])?["Details"] as? String == "Boolean value expected")
                #expect(try await api.get("/patients/\(patientA)/protected").text == "1", "a refused body changes nothing")
                #expect(try await api.get("/patients/00000000-00000000-00000000-00000000-00000000/protected").status == 400)
                #expect(try await api.get("/studies/\(patientA)/protected").status == 404)

                // A third patient: B, the oldest unprotected one, is recycled; A (protected, older) stays.
                let (status, _, c, _) = try await upload(api, "chrFren.dcm")
                #expect(status == 200)
                let patientC = try #require(c)
                #expect(try await patients(api, becoming: [patientA, patientC]) == [patientA, patientC])
                let changes = try await api.changes()
                #expect(!changes.contains { $0["ID"] as? String == patientB }, "the recycled patient's changes are gone, as Orthanc's")

                // Every other patient protected: no room can be made.
                #expect(try await api.send("PUT", "/patients/\(patientC)/protected", body: Array("true".utf8)).status == 200)
                let refused = try await upload(api, "chrRuss.dcm")
                #expect(refused.0 == 507)
                #expect(refused.3["OrthancStatus"] as? Int == 19)
                #expect(refused.3["Details"] as? String == "Cannot recycle more patients")
                let outcome = try await storescu("chrRuss.dcm")
                #expect(outcome.output.contains("Received Store Response (Refused: OutOfResources)"), "\(outcome.output)")
                #expect(try await api.json("/patients", as: [String].self).count == 2)
                #expect(try await api.json("/instances", as: [String].self).count == 2)

                // Unprotected, C goes to the end of the order; now recyclable, it makes room for a fourth patient.
                #expect(try await api.send("PUT", "/patients/\(patientC)/protected", body: Array("false".utf8)).status == 200)
                let (again, _, d, _) = try await upload(api, "chrRuss.dcm")
                #expect(again == 200)
                let patientD = try #require(d)
                #expect(try await patients(api, becoming: [patientA, patientD]) == [patientA, patientD])
            }
        }

        @Test("Reject: a new patient past MaximumPatientCount is refused (507, C-STORE 0xA700) and nothing is deleted")
        func reject() async throws {
            try await withStack(#"{"MaximumPatientCount": 1, "MaximumStorageMode": "Reject"}"#) { stack in
                let api = stack.api
                #expect(try await api.json("/system")["MaximumStorageMode"] as? String == "Reject")
                let (first, instance, a, _) = try await upload(api, "CT_small.dcm")
                #expect(first == 200)
                let patientA = try #require(a)
                let refused = try await upload(api, "MR_small_RLE.dcm")
                #expect(refused.0 == 507, "refused before it is indexed: the first patient is still on its way or indexed")
                #expect((refused.3["Details"] as? String)?.contains("MaximumStorageMode is Reject") == true)
                let outcome = try await storescu("chrFren.dcm")
                #expect(outcome.output.contains("Received Store Response (Refused: OutOfResources)"), "\(outcome.output)")
                _ = try await api.waitForInstances([try #require(instance)])
                // The same instance again is no new patient: accepted.
                #expect(try await upload(api, "CT_small.dcm").0 == 200)
                #expect(try await api.send("PUT", "/patients/\(patientA)/protected", body: Array("1".utf8)).status == 200)
                #expect(try await patients(api, becoming: [patientA]) == [patientA])
                #expect(try await api.json("/instances", as: [String].self).count == 1)
            }
        }
    }
}
