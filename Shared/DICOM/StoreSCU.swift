import CDICOM
import Foundation
import Model

/// An open C-STORE association to a remote modality (DCMTK's DcmSCU behind the shim). Every method blocks: call them
/// from a thread pool, never from Swift's cooperative pool. One user at a time; ownership moves between jobs through
/// the worker's association cache, which is why the class is `@unchecked Sendable`.
public final class StoreSCU: @unchecked Sendable {
    /// Where to connect and as whom.
    public struct Peer: Sendable, Hashable {
        public var host: String
        public var port: Int
        public var calledAET: String
        public var callingAET: String
        /// Seconds for connecting, the association and each response (0: none).
        public var timeoutSeconds: Int
        public var maximumPDU: Int
        /// The modality's `AllowTranscoding`: false, a file the peer does not accept in its own syntax is not
        /// decompressed for it.
        public var allowsTranscoding = true
        /// DICOM TLS (the modality's `UseDicomTls` with the `DicomTls*` settings); nil: plain TCP.
        public var tls: DicomTlsSettings?

        public init(host: String, port: Int, calledAET: String, callingAET: String, timeoutSeconds: Int, maximumPDU: Int) {
            self.host = host
            self.port = port
            self.calledAET = calledAET
            self.callingAET = callingAET
            self.timeoutSeconds = timeoutSeconds
            self.maximumPDU = maximumPDU
        }

        /// The shim's options for this peer, valid during `body`.
        func withOptions<Result>(_ body: (UnsafePointer<cdicom_scu_options>) -> Result) -> Result {
            host.withCString { host in
                callingAET.withCString { calling in
                    calledAET.withCString { called in
                        withTLS { tls in
                            var options = cdicom_scu_options(host: host, port: UInt16(clamping: port), calling_aet: calling,
                                                             called_aet: called, timeout_seconds: UInt32(clamping: timeoutSeconds),
                                                             max_pdu: UInt32(clamping: maximumPDU),
                                                             forbid_transcoding: allowsTranscoding ? 0 : 1, tls: tls)
                            return withUnsafePointer(to: &options) { body($0) }
                        }
                    }
                }
            }
        }

        /// The shim's TLS settings (nil without TLS), valid during `body`.
        private func withTLS<Result>(_ body: (UnsafePointer<cdicom_tls>?) -> Result) -> Result {
            guard let tls else { return body(nil) }
            return tls.certificate.withCString { certificate in
                tls.privateKey.withCString { key in
                    (tls.trustedCertificates ?? "").withCString { trusted in
                        var settings = cdicom_tls(certificate: certificate, private_key: key, trusted_certificates: trusted,
                                                  remote_certificate_required: tls.remoteCertificateRequired ? 1 : 0)
                        return withUnsafePointer(to: &settings) { body($0) }
                    }
                }
            }
        }
    }

    /// A SOP class with a transfer syntax a file is stored in.
    public struct Context: Sendable, Hashable {
        public var sopClass: String
        public var transferSyntax: String

        public init(sopClass: String, transferSyntax: String) {
            self.sopClass = sopClass
            self.transferSyntax = transferSyntax
        }
    }

    /// What sending one file gave.
    public enum Outcome: Sendable, Equatable {
        /// The peer answered with this DIMSE status.
        case answered(UInt16)
        /// The file cannot go in any syntax the peer accepted (`details` says which).
        case cannotTranscode(String)
        /// The peer accepted no context for the file's SOP class.
        case noContext(String)
        /// The stored file cannot be read.
        case unreadable(String)
    }

    public let peer: Peer
    public let contexts: Set<Context>
    private var handle: OpaquePointer?

    /// DCMTK proposes at most 128 presentation contexts; each context below uses at most two, plus one per SOP class.
    public static let maximumContextsPerAssociation = 42

    /// Opens an association proposing `contexts` (at most ``maximumContextsPerAssociation``); throws
    /// `networkProtocol` with DCMTK's reason when the peer cannot be reached, refuses, or stays silent too long.
    public init(peer: Peer, contexts: Set<Context>) throws(TesseraError) {
        self.peer = peer
        self.contexts = contexts
        let ordered = Array(contexts)
        var error = [CChar](repeating: 0, count: 512)
        let opened: OpaquePointer? = peer.withOptions { options in
            Self.withCStrings(ordered.map(\.sopClass)) { sopClasses in
                Self.withCStrings(ordered.map(\.transferSyntax)) { syntaxes in
                    cdicom_scu_open(options, sopClasses, syntaxes, ordered.count, &error, error.count)
                }
            }
        }
        guard let opened else {
            throw TesseraError(.networkProtocol, details: "DicomAssociation - connecting to AET \"\(peer.calledAET)\": \(StoreSCP.text(error))")
        }
        handle = opened
    }

    deinit {
        if let handle { cdicom_scu_close(handle, 1) }
    }

    /// Whether the association is still established.
    public var isOpen: Bool {
        handle.map { cdicom_scu_is_open($0) != 0 } ?? false
    }

    /// Whether this association proposed `context` (a new one would be answered the same for it).
    public func covers(_ context: Context) -> Bool {
        contexts.contains(context)
    }

    /// Sends one file; throws `networkProtocol` when the association failed (it is closed then).
    public func store(path: String, moveOriginatorAET: String?, moveOriginatorID: UInt16) throws(TesseraError) -> Outcome {
        guard let handle else {
            throw TesseraError(.networkProtocol, details: "DicomAssociation - the association to AET \"\(peer.calledAET)\" is closed")
        }
        var status: UInt16 = 0
        var error = [CChar](repeating: 0, count: 512)
        let result = cdicom_scu_store(handle, path, moveOriginatorAET, moveOriginatorID, &status, &error, error.count)
        let text = StoreSCP.text(error)
        switch Int(result) {
        case Int(CDICOM_SCU_ANSWERED): return .answered(status)
        case Int(CDICOM_SCU_TRANSCODE): return .cannotTranscode(text)
        case Int(CDICOM_SCU_NO_CONTEXT): return .noContext(text)
        case Int(CDICOM_SCU_UNREADABLE): return .unreadable(text)
        default:
            close(abort: true)
            throw TesseraError(.networkProtocol, details: "DicomAssociation - C-STORE to AET \"\(peer.calledAET)\": \(text)")
        }
    }

    /// Releases the association (or aborts it).
    public func close(abort: Bool = false) {
        if let handle { cdicom_scu_close(handle, abort ? 1 : 0) }
        handle = nil
    }

    static func withCStrings<Result>(_ strings: [String], _ body: ([UnsafePointer<CChar>?]) -> Result) -> Result {
        let pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        defer { pointers.forEach { free($0) } }
        return body(pointers.map { $0.map { UnsafePointer($0) } })
    }
}
