import Foundation
import Testing

extension ClusterTests {
    /// DICOM TLS towards modalities (`UseDicomTls` with `DicomTlsCertificate`, `DicomTlsPrivateKey`,
    /// `DicomTlsTrustedCertificates`), against DCMTK's storescp in TLS mode with certificates made by openssl.
    @Suite("DICOM TLS towards modalities", .serialized)
    struct DicomTlsTests {
        let environment: TestEnvironment

        init() throws {
            environment = try TestEnvironment.load()
        }

        /// A self-signed certificate and its key in `folder`.
        func certificate(_ name: String, in folder: String) async throws {
            let made = try await ProcessRunner.run("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                                                               "-keyout", "\(folder)/\(name).key", "-out", "\(folder)/\(name).crt",
                                                               "-subj", "/CN=\(name)"], timeout: .seconds(60))
            #expect(made.status == 0, "\(made.output)")
        }

        @Test("Echo and C-STORE over TLS arrive; plain TCP to a TLS port and a certificate Tessera does not trust fail clearly")
        func tls() async throws {
            let folder = try environment.temporaryFolder("dicom-tls")
            for name in ["tessera", "modality", "stranger"] { try await certificate(name, in: folder) }
            let json = """
                {"DicomTlsCertificate": "\(folder)/tessera.crt", "DicomTlsPrivateKey": "\(folder)/tessera.key",
                 "DicomTlsTrustedCertificates": "\(folder)/modality.crt", "DicomScuTimeout": 5,
                 "DicomModalities": {
                    "secure": {"AET": "TLSSCP", "Host": "127.0.0.1", "Port": 14971, "UseDicomTls": true},
                    "plain": {"AET": "TLSSCP", "Host": "127.0.0.1", "Port": 14971},
                    "stranger": {"AET": "TLSSCP", "Host": "127.0.0.1", "Port": 14972, "UseDicomTls": true}}}
                """
            try await IsolatedStack.with(environment, name: "tessera_tls", apiPort: 18971, indexerMetricsPort: 19971, json: json) { stack in
                try await stack.startWorker(metricsPort: 19972)
                let received = try environment.temporaryFolder("dicom-tls-received")
                // The modality trusts Tessera's certificate; the stranger presents one Tessera does not trust.
                stack.adopt("secure", try ProcessRunner.start("storescp", ["-v", "+tls", "\(folder)/modality.key", "\(folder)/modality.crt",
                                                                           "+cf", "\(folder)/tessera.crt", "-aet", "TLSSCP", "-od", received, "14971"]))
                stack.adopt("stranger", try ProcessRunner.start("storescp", ["-v", "+tls", "\(folder)/stranger.key", "\(folder)/stranger.crt",
                                                                             "+cf", "\(folder)/tessera.crt", "-aet", "TLSSCP", "-od", received, "14972"]))
                let api = stack.api
                let upload = try await api.post("/instances", body: [UInt8](try Data(contentsOf: URL(fileURLWithPath:
                    environment.repository + "/Tests/UnitTests/Fixtures/tags/CT_small.dcm"))))
                let id = try #require((try upload.json() as? [String: Any])?["ID"] as? String)
                _ = try await api.waitForInstances([id])
                try await SilentListener.waitUntilListening(port: 14971)
                try await SilentListener.waitUntilListening(port: 14972)

                let echo = try await api.post("/modalities/secure/echo", json: [String: Any]())
                #expect(echo.status == 200, "\(echo.text)")
                let stored = try await api.post("/modalities/secure/store", json: [id])
                #expect(stored.status == 200, "\(stored.text)")
                #expect((try stored.json() as? [String: Any])?["InstancesCount"] as? Int == 1)
                let files = try FileManager.default.contentsOfDirectory(atPath: received)
                #expect(files == ["CT.1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322"], "the file arrived over TLS")

                let plain = try await api.post("/modalities/plain/echo", json: [String: Any]())
                #expect(plain.status == 500, "plain TCP to a TLS port")
                let stranger = try await api.post("/modalities/stranger/echo", json: [String: Any]())
                #expect(stranger.status == 500, "a certificate Tessera does not trust")
                #expect(((try stranger.json() as? [String: Any])?["Details"] as? String)?.contains("TLSSCP") == true)
            }
        }

        @Test("UseDicomTls without certificates, or a half TLS configuration, is refused clearly")
        func refusals() async throws {
            let json = #"{"DicomModalities": {"secure": {"AET": "TLSSCP", "Host": "127.0.0.1", "Port": 14971, "UseDicomTls": true}}}"#
            try await IsolatedStack.with(environment, name: "tessera_tls2", apiPort: 18973, indexerMetricsPort: 19973, json: json) { stack in
                try await stack.startWorker(metricsPort: 19974)
                let echo = try await stack.api.post("/modalities/secure/echo", json: [String: Any]())
                #expect(echo.status == 500)
                #expect(((try echo.json() as? [String: Any])?["Details"] as? String)?.contains("DicomTlsCertificate") == true, "\(echo.text)")
            }
        }
    }
}
