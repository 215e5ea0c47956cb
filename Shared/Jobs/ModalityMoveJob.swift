import DICOM
import Index
import Model

/// Runs `DicomMoveScu` jobs (`/modalities/{id}/move`, `/queries/{id}/retrieve`, `/queries/{id}/answers/{n}/retrieve`):
/// one C-MOVE per query, in order, the position of the next recorded after each.
public struct ModalityMoveJob: JobHandler {
    let associations: AssociationPool
    let maximumPDU: Int

    public init(associations: AssociationPool, maximumPDU: Int) {
        self.associations = associations
        self.maximumPDU = maximumPDU
    }

    /// Orthanc's job type.
    public static let type = "DicomMoveScu"

    public var type: String { Self.type }

    /// Orthanc's public content.
    public static func content(_ request: QueryRequest) -> JSONValue {
        .object([
            "Description": .string("REST API"), "LocalAet": .string(request.localAet), "RemoteAet": .string(request.remote.aet),
            "Query": .array(request.queries.map { .object($0.mapValues(JSONValue.string)) }),
        ])
    }

    public func run(_ job: JobRecord, context: JobContext) async throws -> JobResult {
        let request = try QueryRequest(json: job.request)
        let peer = request.peer(maximumPDU: maximumPDU)
        let model = request.level == .patient ? QuerySCU.patientRootMove : QuerySCU.studyRootMove
        let destination = request.targetAet ?? request.localAet
        var position = job.cursor["Position"]?.intValue ?? 0
        while position < request.queries.count {
            if let reason = context.stopReason { return .stopped(reason) }
            let attributes = QueryRequest.attributes(request.queries[position])
            let result = try await associations.blocking { () throws(TesseraError) -> QuerySCU.MoveResult in
                try QuerySCU.move(peer: peer, model: model, query: attributes, destination: destination)
            }
            guard !DimseStatus(rawValue: result.status).isFailure else {
                throw TesseraError(.networkProtocol, details: "C-MOVE SCU to AET \"\(request.remote.aet)\" has failed with DIMSE status 0x"
                                   + String(result.status, radix: 16, uppercase: true)
                                   + " (\(result.completed) completed, \(result.failed) failed sub-operations)")
            }
            position += 1
            if let reason = try await context.record(cursor: .object(["Position": .number(Double(position))]),
                                                     content: Self.content(request),
                                                     progress: position * 100 / request.queries.count) {
                return .stopped(reason)
            }
        }
        return .success(Self.content(request))
    }
}
