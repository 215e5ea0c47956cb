import AsyncHTTPClient
import Foundation
import Model
import NIOCore
import NIOHTTP1
import NIOSSL

/// HTTP requests to Orthanc peers (async-http-client): Basic credentials and extra headers of the peer, its client
/// certificate, the worker's `HttpsVerifyPeers` / `HttpsCACertificates`, and a deadline on every request (the peer's
/// `Timeout`, else `HttpTimeout`; 0: none).
public struct PeerClient: Sendable {
    let client: HTTPClient
    let verifyPeers: Bool
    let caCertificates: String?
    let defaultTimeout: Int

    public init(client: HTTPClient, verifyPeers: Bool, caCertificates: String?, defaultTimeout: Int) {
        self.client = client
        self.verifyPeers = verifyPeers
        self.caCertificates = caCertificates
        self.defaultTimeout = defaultTimeout
    }

    /// `GET {url}/system`: the peer's JSON.
    public func system(_ peer: PeerConfiguration) async throws(TesseraError) -> JSONValue {
        let body = try await send(peer, method: .GET, path: "system", body: nil)
        return (try? JSONValue.parse(Data(body))) ?? .null
    }

    /// `POST {url}/instances` of one DICOM file; the peer's answer. With `gzip`, `file` is a gzip stream, sent with
    /// `Content-Encoding: gzip` (and no `Expect`), as Orthanc's `Compress`.
    @discardableResult
    public func store(_ peer: PeerConfiguration, file: [UInt8], gzip: Bool = false) async throws(TesseraError) -> JSONValue {
        let body = try await send(peer, method: .POST, path: "instances", body: file, gzip: gzip)
        return (try? JSONValue.parse(Data(body))) ?? .null
    }

    private func send(_ peer: PeerConfiguration, method: HTTPMethod, path: String, body: [UInt8]?,
                      gzip: Bool = false) async throws(TesseraError) -> [UInt8] {
        var request = HTTPClientRequest(url: peer.url + path)
        request.method = method
        if let username = peer.username {
            let credentials = Data("\(username):\(peer.password ?? "")".utf8).base64EncodedString()
            request.headers.add(name: "Authorization", value: "Basic \(credentials)")
        }
        for (name, value) in peer.httpHeaders { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/dicom")
            if gzip { request.headers.add(name: "Content-Encoding", value: "gzip") }
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        if peer.url.hasPrefix("https://") { request.tlsConfiguration = try tls(for: peer) }
        let seconds = peer.timeout > 0 ? peer.timeout : defaultTimeout
        let timeout: TimeAmount = seconds > 0 ? .seconds(Int64(seconds)) : .hours(24 * 365)
        do {
            let response = try await client.execute(request, timeout: timeout)
            let answer = try await response.body.collect(upTo: 64 << 20)
            guard (200..<300).contains(Int(response.status.code)) else {
                throw TesseraError(.networkProtocol, details: "HTTP status \(response.status.code) from peer \(peer.url)\(path)"
                                   + (gzip ? " (gzip Content-Encoding: the peer must be Orthanc 1.6.0 or later)" : ""))
            }
            return Array(buffer: answer)
        } catch let error as TesseraError {
            throw error
        } catch {
            throw TesseraError(.networkProtocol, details: "HTTP request to peer \(peer.url)\(path) failed: \(error)")
        }
    }

    private func tls(for peer: PeerConfiguration) throws(TesseraError) -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = verifyPeers ? .fullVerification : .none
        do {
            if let caCertificates {
                configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caCertificates))
            }
            if let certificate = peer.certificateFile, let key = peer.certificateKeyFile {
                configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) }
                if let password = peer.certificateKeyPassword {
                    configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem) { provide in
                        provide(Array(password.utf8))
                    })
                } else {
                    configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
                }
            }
        } catch {
            throw TesseraError(.badConfiguration, details: "Cannot read the TLS files of peer \(peer.url): \(error)")
        }
        return configuration
    }
}
