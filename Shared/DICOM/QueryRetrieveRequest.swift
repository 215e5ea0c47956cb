import CDICOM
import Model

/// A C-FIND, C-MOVE or C-GET request received by the SCP, its identifier read.
public struct QueryRetrieveRequest: Sendable {
    /// The DIMSE service asked for.
    public enum Command: Sendable, Hashable {
        case find, move, get
    }

    public var command: Command
    /// The information model (Patient Root, Study Root: the affected SOP class UID).
    public var sopClassUID: String
    public var callingAET: String
    public var calledAET: String
    public var peerIP: String
    /// C-MOVE: where the instances go (an AE title); empty otherwise.
    public var moveDestination: String
    public var messageID: UInt16
    /// The identifier as a DICOM file (explicit VR little endian, with a meta header).
    public var identifier: [UInt8]
    /// The association's number in this process (log lines carry it).
    public var associationID: UInt64 = 0

    public init(command: Command, sopClassUID: String, callingAET: String, calledAET: String, peerIP: String,
                moveDestination: String = "", messageID: UInt16 = 1, identifier: [UInt8]) {
        self.command = command
        self.sopClassUID = sopClassUID
        self.callingAET = callingAET
        self.calledAET = calledAET
        self.peerIP = peerIP
        self.moveDestination = moveDestination
        self.messageID = messageID
        self.identifier = identifier
    }

    init?(_ raw: UnsafePointer<cdicom_qr_request>?) {
        guard let raw = raw?.pointee, let bytes = raw.identifier else { return nil }
        let command: Command
        switch Int(raw.command) {
        case CDICOM_QR_FIND: command = .find
        case CDICOM_QR_MOVE: command = .move
        case CDICOM_QR_GET: command = .get
        default: return nil
        }
        func text(_ pointer: UnsafePointer<CChar>?) -> String { pointer.map { String(cString: $0) } ?? "" }
        self.init(command: command, sopClassUID: text(raw.sop_class_uid), callingAET: text(raw.calling_aet),
                  calledAET: text(raw.called_aet), peerIP: text(raw.peer_ip), moveDestination: text(raw.move_destination),
                  messageID: raw.message_id, identifier: Array(UnsafeBufferPointer(start: bytes, count: raw.identifier_length)))
        associationID = raw.association_id
    }
}
