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
            let gateway = try await environment.startGateway(port: port, aeTitle: "CHECKED", metricsPort: 19_143,
                                                             extra: ["ORTHANC__DICOM_CHECK_CALLED_AET": "true"])
            defer { kill(gateway.pid, SIGKILL) }
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
