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
        var status: UInt16 = 0
        var error = [CChar](repeating: 0, count: 512)
        let result: Int32 = peer.withOptions { options in
            StoreSCU.withCStrings(instances.map(\.sopClassUID)) { classes in
                StoreSCU.withCStrings(instances.map(\.sopInstanceUID)) { uids in
                    cdicom_storage_commitment(options, transactionUID, classes, uids, instances.count, &status, &error, error.count)
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
