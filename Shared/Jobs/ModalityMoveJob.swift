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
        let peer = try request.peer(maximumPDU: maximumPDU, through: associations)
        let model = request.level == .patient ? QuerySCU.patientRootMove : QuerySCU.studyRootMove
        let destination = request.targetAet ?? request.localAet
        return try await RetrieveLoop.run(job, context: context, request: request, operation: "C-MOVE") { attributes, _ in
            try await associations.blocking { () throws(TesseraError) -> QuerySCU.MoveResult in
                try QuerySCU.move(peer: peer, model: model, query: attributes, destination: destination)
            }
        }
    }
}
