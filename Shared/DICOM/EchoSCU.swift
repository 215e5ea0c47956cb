import CDICOM
import Foundation
import Model

/// C-ECHO as a service user.
public enum EchoSCU {
    /// Sends a C-ECHO to `host:port`; throws `networkProtocol` (as Orthanc) when the peer cannot be reached or refuses,
    /// or when nothing answers within `timeoutSeconds` (0: no timeout). Runs on a dedicated thread.
    public static func echo(host: String, port: Int, callingAET: String, calledAET: String, timeoutSeconds: Int = 10) async throws(TesseraError) {
        let failure: String? = await withCheckedContinuation { done in
            let thread = Thread {
                var error = [CChar](repeating: 0, count: 512)
                let status = cdicom_echo(host, UInt16(clamping: port), callingAET, calledAET,
                                         UInt32(clamping: timeoutSeconds), &error, error.count)
                done.resume(returning: status == 0 ? nil : StoreSCP.text(error))
            }
            thread.name = "dicom-echo-scu"
            thread.start()
        }
        if let failure {
            throw TesseraError(.networkProtocol, details: "DicomAssociation - connecting to AET \"\(calledAET)\": \(failure)")
        }
    }
}
