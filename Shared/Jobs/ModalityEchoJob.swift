import DICOM
import Index
import Model

/// Runs the C-ECHO of `POST /modalities/{id}/echo` as a hidden job, so that every outbound association leaves from a
/// worker (Orthanc makes the call directly and lists no job for it).
public struct ModalityEchoJob: JobHandler {
    let associations: AssociationPool

    public init(associations: AssociationPool) {
        self.associations = associations
    }

    /// Tessera's own job type (hidden from `/jobs`).
    public static let type = "DicomEcho"

    public var type: String { Self.type }

    /// The request of an echo job.
    public static func request(remote: ModalityConfiguration, localAet: String, timeoutSeconds: Int) -> JSONValue {
        .object(["Remote": remote.json, "LocalAet": .string(localAet), "Timeout": .number(Double(timeoutSeconds))])
    }

    public func run(_ job: JobRecord, context: JobContext) async throws -> JobResult {
        guard let remoteJSON = job.request["Remote"], let localAet = job.request["LocalAet"]?.stringValue,
              let timeout = job.request["Timeout"]?.intValue else {
            throw TesseraError(.internalError, details: "A DicomEcho job's request is incomplete")
        }
        let remote = try ModalityConfiguration(json: remoteJSON)
        try await associations.blocking { () throws(TesseraError) in
            try EchoSCU.echoBlocking(host: remote.host, port: remote.port, callingAET: localAet, calledAET: remote.aet,
                                     timeoutSeconds: timeout)
        }
        return .success(.object([:]))
    }
}
