import CDICOM
import Model

/// What the SCP asks before an association or a request: the peer, and the request (nil for the association
/// itself, Orthanc's `IsAllowedConnection`; with `established`, the association was just accepted and a refusal
/// aborts it).
public struct AssociationAccess: Sendable, Hashable {
    public var request: DicomAccessRules.Request?
    /// The association was accepted already (a refusal aborts it right away).
    public var established = false
    public var callingAET: String
    public var calledAET: String
    public var peerIP: String

    public init(request: DicomAccessRules.Request?, callingAET: String, calledAET: String, peerIP: String) {
        self.request = request
        self.callingAET = callingAET
        self.calledAET = calledAET
        self.peerIP = peerIP
    }

    /// Reads the C callback's arguments; nil for a request kind this side does not know.
    init?(request code: Int32, callingAET: UnsafePointer<CChar>?, calledAET: UnsafePointer<CChar>?, peerIP: UnsafePointer<CChar>?) {
        let request: DicomAccessRules.Request?
        var established = false
        switch Int(code) {
        case CDICOM_ACCESS_CONNECTION: request = nil
        case CDICOM_ACCESS_ESTABLISHED:
            request = nil
            established = true
        case CDICOM_ACCESS_ECHO: request = .echo
        case CDICOM_ACCESS_STORE: request = .store
        case CDICOM_ACCESS_FIND: request = .find
        case CDICOM_ACCESS_MOVE: request = .move
        case CDICOM_ACCESS_GET: request = .get
        case CDICOM_ACCESS_EVENT_REPORT: request = .eventReport
        default: return nil
        }
        func text(_ pointer: UnsafePointer<CChar>?) -> String { pointer.map { String(cString: $0) } ?? "" }
        self.init(request: request, callingAET: text(callingAET), calledAET: text(calledAET), peerIP: text(peerIP))
        self.established = established
    }
}
