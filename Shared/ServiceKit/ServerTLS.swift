import Model
import NIOSSL

/// The TLS of the REST API's HTTPS (`SslEnabled`), from Orthanc's `SslCertificate`: one PEM file holding the server's
/// certificate chain and its private key (either order). TLS 1.2 at least, as Orthanc's default
/// `SslMinimumProtocolVersion`.
public enum ServerTLS {
    /// Reads the PEM file; `sslError` (Orthanc's error 39 text) when it holds no certificate or no key.
    public static func configuration(certificateFile path: String) throws(TesseraError) -> TLSConfiguration {
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        do {
            chain = try NIOSSLCertificate.fromPEMFile(path)
            key = try NIOSSLPrivateKey(file: path, format: .pem)
        } catch {
            throw TesseraError(.sslInitialization, details: "SslCertificate \(path): \(error)")
        }
        guard !chain.isEmpty else {
            throw TesseraError(.sslInitialization, details: "SslCertificate \(path) holds no certificate")
        }
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) },
                                                            privateKey: .privateKey(key))
        tls.minimumTLSVersion = .tlsv12
        return tls
    }
}
