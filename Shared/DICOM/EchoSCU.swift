import CDICOM
import Foundation
import Model

/// C-ECHO as a service user.
public enum EchoSCU {
    /// Sends a C-ECHO to `host:port`; throws `networkProtocol` (as Orthanc) when the peer cannot be reached or refuses,
    /// or when nothing answers within `timeoutSeconds` (0: no timeout). Runs on a dedicated thread.
    public static func echo(host: String, port: Int, callingAET: String, calledAET: String, timeoutSeconds: Int = 10) async throws(TesseraError) {
        let failure: TesseraError? = await withCheckedContinuation { (done: CheckedContinuation<TesseraError?, Never>) in
            let thread = Thread {
                do {
                    try echoBlocking(host: host, port: port, callingAET: callingAET, calledAET: calledAET,
                                     timeoutSeconds: timeoutSeconds)
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

    /// The same, blocking the calling thread (for callers that run DCMTK on threads of their own).
    public static func echoBlocking(host: String, port: Int, callingAET: String, calledAET: String,
                                    timeoutSeconds: Int) throws(TesseraError) {
        var error = [CChar](repeating: 0, count: 512)
        let status = cdicom_echo(host, UInt16(clamping: port), callingAET, calledAET, UInt32(clamping: timeoutSeconds),
                                 &error, error.count)
        guard status == 0 else {
            throw TesseraError(.networkProtocol, details: "DicomAssociation - connecting to AET \"\(calledAET)\": \(StoreSCP.text(error))")
        }
    }
}
