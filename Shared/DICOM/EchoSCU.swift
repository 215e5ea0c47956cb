import CDICOM
import Foundation
import Model

/// C-ECHO as a service user.
public enum EchoSCU {
    /// Sends a C-ECHO to `peer`; throws `networkProtocol` (as Orthanc) when the peer cannot be reached or refuses,
    /// or when nothing answers within its timeout (0: no timeout). Runs on a dedicated thread.
    public static func echo(peer: StoreSCU.Peer) async throws(TesseraError) {
        let failure: TesseraError? = await withCheckedContinuation { (done: CheckedContinuation<TesseraError?, Never>) in
            let thread = Thread {
                do {
                    try echoBlocking(peer: peer)
                    done.resume(returning: nil)
                } catch let error as TesseraError {
                    done.resume(returning: error)
                } catch {
                    done.resume(returning: TesseraError(.internalError, details: String(describing: error)))
                }
            }
            thread.name = "dicom-echo-scu"
            thread.start()
        }
        if let failure { throw failure }
    }

    /// Sends a C-ECHO over plain TCP to `host:port` (`timeoutSeconds` 0: no timeout).
    public static func echo(host: String, port: Int, callingAET: String, calledAET: String, timeoutSeconds: Int = 10) async throws(TesseraError) {
        try await echo(peer: StoreSCU.Peer(host: host, port: port, calledAET: calledAET, callingAET: callingAET,
                                           timeoutSeconds: timeoutSeconds, maximumPDU: 0))
    }

    /// The same, blocking the calling thread (for callers that run DCMTK on threads of their own).
    public static func echoBlocking(peer: StoreSCU.Peer) throws(TesseraError) {
        var error = [CChar](repeating: 0, count: 512)
        let status = peer.withOptions { options in cdicom_echo(options, &error, error.count) }
        guard status == 0 else {
            throw TesseraError(.networkProtocol, details: "DicomAssociation - connecting to AET \"\(peer.calledAET)\": \(StoreSCP.text(error))")
        }
    }
}
