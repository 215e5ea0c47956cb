import DICOM
import Index
import Model

/// Runs the C-FIND of `POST /modalities/{id}/query` as a hidden job, so that every outbound association leaves from a
/// worker, and saves the query and its answers for `/queries/{id}`; the job's content names the query.
public struct ModalityFindJob: JobHandler {
    let queries: QueryStore
    let associations: AssociationPool
    let maximumPDU: Int
    /// `QueryRetrieveSize`: queries kept.
    let keep: Int

    /// More answers than this fail the query (they are held in memory until saved).
    public static let maximumAnswers = 100_000

    public init(queries: QueryStore, associations: AssociationPool, maximumPDU: Int, keep: Int) {
        self.queries = queries
        self.associations = associations
        self.maximumPDU = maximumPDU
        self.keep = keep
    }

    /// Tessera's own job type (hidden from `/jobs`).
    public static let type = "DicomFind"

    public var type: String { Self.type }

    /// The attributes the user asked for (what `/queries/{id}/query` shows), when the request names them.
    static func asked(_ request: JSONValue) -> [String: String]? {
        guard case .object(let members)? = request["Asked"] else { return nil }
        return members.compactMapValues(\.stringValue)
    }

    public func run(_ job: JobRecord, context: JobContext) async throws -> JobResult {
        let request = try QueryRequest(json: job.request)
        guard let queryID = job.request["QueryID"]?.stringValue, let query = request.queries.first else {
            throw TesseraError(.internalError, details: "A DicomFind job's request is incomplete")
        }
        let peer = try request.peer(maximumPDU: maximumPDU, through: associations)
        let model = request.level == .patient ? QuerySCU.patientRootFind : QuerySCU.studyRootFind
        let attributes = QueryRequest.attributes(query)
        let result = try await associations.blocking { () throws(TesseraError) -> QuerySCU.FindResult in
            try QuerySCU.find(peer: peer, model: model, query: attributes, limit: Self.maximumAnswers)
        }
        guard !DimseStatus(rawValue: result.status).isFailure else {
            throw TesseraError(.networkProtocol, details: "C-FIND SCU to AET \"\(request.remote.aet)\" has failed with DIMSE status 0x"
                               + String(result.status, radix: 16, uppercase: true))
        }
        if result.truncated {
            throw TesseraError(.networkProtocol, details: "C-FIND SCU to AET \"\(request.remote.aet)\": more than \(Self.maximumAnswers) answers")
        }
        try await queries.save(QueryRecord(id: queryID, modality: request.modalityName, remote: request.remote.json,
                                           localAet: request.localAet, timeoutSeconds: request.timeoutSeconds,
                                           level: request.level.rawValue, query: Self.asked(job.request) ?? query),
                               answers: result.answers, keep: keep)
        return .success(.object(["ID": .string(queryID), "Path": .string("/queries/\(queryID)")]))
    }
}
