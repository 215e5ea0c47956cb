import Foundation
import Testing

extension ClusterTests {
    /// A second gateway on the cluster's broker and storage, configured differently.
    @Suite("Gateway configuration", .serialized)
    struct GatewayConfigurationTests {
        let environment: TestEnvironment

        init() throws {
            environment = try TestEnvironment.load()
        }

        @Test("DicomCheckCalledAet: associations to another AE title are refused, the right one is served")
        func checkCalledAET() async throws {
            let port = 14_343
            let gateway = try ProcessRunner.start(environment.binaries + "/tessera-gateway", [], environment: [
                "TESSERA_DICOM_PORT": String(port), "TESSERA_DICOM_AET": "CHECKED", "TESSERA_METRICS_PORT": "19143",
                "TESSERA_KAFKA_BROKERS": environment.kafkaBrokers, "TESSERA_STORAGE_DIR": environment.runFolder + "/storage",
                "ORTHANC__DICOM_CHECK_CALLED_AET": "true",
            ])
            defer { kill(gateway.pid, SIGKILL) }
            let api = RESTClient(baseURL: "http://127.0.0.1:19143")
            let deadline = ContinuousClock.now + .seconds(30)
            while (try? await api.get("/ready"))?.status != 200 && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(200))
            }
            let wrong = try await ProcessRunner.run("echoscu", ["-aec", "SOMEONE", "127.0.0.1", String(port)])
            #expect(wrong.status != 0, "echoscu to a wrong called AE must fail: \(wrong.output)")
            #expect(wrong.output.contains("Called AE Title Not Recognized"), "\(wrong.output)")
            let right = try await ProcessRunner.run("echoscu", ["-aec", "CHECKED", "127.0.0.1", String(port)])
            #expect(right.status == 0, "\(right.output)")
            kill(gateway.pid, SIGTERM)
            #expect(await gateway.wait(timeout: .seconds(30)).status == 0, "graceful shutdown on SIGTERM exits 0")
        }
    }
}
