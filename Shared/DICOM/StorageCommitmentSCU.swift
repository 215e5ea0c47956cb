import CDICOM
import Foundation
import Model

/// Storage commitment (Push Model) as a service user: the N-ACTION that asks a peer to commit to having stored
/// instances. The peer's answer, the report, comes later on an association it opens to our SCP (``StoreSCP``).
public enum StorageCommitmentSCU {
    /// Sends the N-ACTION of `transactionUID` for `instances` on an association of its own and returns the peer's
    /// DIMSE status; `networkProtocol` when the peer cannot be reached, refuses or stays silent. Blocking.
    public static func request(peer: StoreSCU.Peer, transactionUID: String,
                               instances: [StorageCommitmentReport.Reference]) throws(TesseraError) -> UInt16 {
        let classes = instances.map { strdup($0.sopClassUID) }
        let uids = instances.map { strdup($0.sopInstanceUID) }
        defer { (classes + uids).forEach { free($0) } }
        var status: UInt16 = 0
        var error = [CChar](repeating: 0, count: 512)
        let result: Int32 = peer.host.withCString { host in
            peer.callingAET.withCString { calling in
                peer.calledAET.withCString { called in
                    var options = cdicom_scu_options(host: host, port: UInt16(clamping: peer.port), calling_aet: calling,
                                                     called_aet: called, timeout_seconds: UInt32(clamping: peer.timeoutSeconds),
                                                     max_pdu: UInt32(clamping: peer.maximumPDU))
                    let classPointers = classes.map { $0.map { UnsafePointer($0) } }
                    let uidPointers = uids.map { $0.map { UnsafePointer($0) } }
                    return classPointers.withUnsafeBufferPointer { classBuffer in
                        uidPointers.withUnsafeBufferPointer { uidBuffer in
                            cdicom_storage_commitment(&options, transactionUID, classBuffer.baseAddress, uidBuffer.baseAddress,
                                                      instances.count, &status, &error, error.count)
                        }
                    }
                }
            }
        }
        guard result == 0 else {
            throw TesseraError(.networkProtocol, details: "DicomAssociation - storage commitment to AET \"\(peer.calledAET)\": "
                               + StoreSCP.text(error))
        }
        return status
    }
}
