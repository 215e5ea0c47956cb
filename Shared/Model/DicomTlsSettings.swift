/// Orthanc's DICOM TLS settings (`DicomTlsCertificate`, `DicomTlsPrivateKey`, `DicomTlsTrustedCertificates`,
/// `DicomTlsRemoteCertificateRequired`), used by outbound associations to modalities declared with `UseDicomTls`:
/// PEM files, the key unencrypted.
public struct DicomTlsSettings: Sendable, Hashable {
    /// Our certificate, presented to the modality.
    public var certificate: String
    /// Its private key.
    public var privateKey: String
    /// The certificates (or authorities) a modality's certificate must be signed by.
    public var trustedCertificates: String?
    /// Whether the modality must present a certificate the trusted ones vouch for (Orthanc's default: true).
    public var remoteCertificateRequired: Bool

    public init(certificate: String, privateKey: String, trustedCertificates: String? = nil, remoteCertificateRequired: Bool = true) {
        self.certificate = certificate
        self.privateKey = privateKey
        self.trustedCertificates = trustedCertificates
        self.remoteCertificateRequired = remoteCertificateRequired
    }
}
