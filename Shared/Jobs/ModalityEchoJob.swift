import DICOM
import Foundation
import Index
import Model

/// Runs the C-ECHO of `POST /modalities/{id}/echo` as a hidden job, so that every outbound association leaves from a
/// worker (Orthanc makes the call directly and lists no job for it). With `CheckFind`, a study-level C-FIND of a random
/// Study Instance UID follows, as Orthanc checks that the modality knows it.
public struct ModalityEchoJob: JobHandler {
    let associations: AssociationPool

    public init(associations: AssociationPool) {
        self.associations = associations
    }

    /// Tessera's own job type (hidden from `/jobs`).
    public static let type = "DicomEcho"

    public var type: String { Self.type }

    /// The request of an echo job.
    public static func request(remote: ModalityConfiguration, localAet: String, timeoutSeconds: Int, checkFind: Bool = false) -> JSONValue {
        .object(["Remote": remote.json, "LocalAet": .string(localAet), "Timeout": .number(Double(timeoutSeconds)),
                 "CheckFind": .bool(checkFind)])
    }

    /// A Study Instance UID nobody has: `2.25.` and a random number below 2^128.
    static func randomUID() -> String {
        "2.25.\(UInt64.random(in: 1...UInt64.max))" + String(format: "%019llu", UInt64.random(in: 0..<10_000_000_000_000_000_000)).prefix(18)
    }

    public func run(_ job: JobRecord, context: JobContext) async throws -> JobResult {
        guard let remoteJSON = job.request["Remote"], let localAet = job.request["LocalAet"]?.stringValue,
              let timeout = job.request["Timeout"]?.intValue else {
            throw TesseraError(.internalError, details: "A DicomEcho job's request is incomplete")
        }
        let remote = try ModalityConfiguration(json: remoteJSON)
        let peer = try associations.peer(remote, callingAET: localAet, timeoutSeconds: timeout)
        try await associations.blocking { () throws(TesseraError) in
            try EchoSCU.echoBlocking(peer: peer)
        }
        if job.request["CheckFind"]?.boolValue == true {
            let query: [(DicomTag, String)] = [(DicomTag(0x0008, 0x0052), "STUDY"), (DicomTag(0x0020, 0x000D), Self.randomUID())]
            let result = try await associations.blocking { () throws(TesseraError) -> QuerySCU.FindResult in
                try QuerySCU.find(peer: peer, model: QuerySCU.studyRootFind, query: query, limit: 1)
            }
            guard !DimseStatus(rawValue: result.status).isFailure else {
                throw TesseraError(.networkProtocol, details: "C-FIND SCU to AET \"\(remote.aet)\" has failed with DIMSE status 0x"
                                   + String(result.status, radix: 16, uppercase: true))
            }
        }
        return .success(.object([:]))
    }
}
