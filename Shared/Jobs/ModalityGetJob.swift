import DICOM
import Foundation
import Index
import Ingest
import Model

/// Runs `DicomGetScu` jobs (`/modalities/{id}/get`, and retrieves of queries whose method is C-GET): one C-GET per
/// query, in order, the instances the peer sends on the association stored through the ingest path (Success answered
/// to the peer only once each is durable); the position of the next query recorded after each.
public struct ModalityGetJob: JobHandler {
    let associations: AssociationPool
    let ingest: InstanceIngest
    let incomingFolder: String
    let transferSyntaxes: [String]
    let maximumPDU: Int

    /// - Parameters:
    ///   - incomingFolder: where the received datasets are written (the blob store's incoming folder).
    ///   - transferSyntaxes: proposed for every storage SOP class (the syntaxes the DICOM server accepts).
    public init(associations: AssociationPool, ingest: InstanceIngest, incomingFolder: String, transferSyntaxes: [String],
                maximumPDU: Int) {
        self.associations = associations
        self.ingest = ingest
        self.incomingFolder = incomingFolder
        self.transferSyntaxes = transferSyntaxes
        self.maximumPDU = maximumPDU
    }

    /// Orthanc's job type.
    public static let type = "DicomGetScu"

    public var type: String { Self.type }

    /// `SOPClassesInStudy` (0008,0062) of a query: the SOP classes to propose, not a matching key.
    static let sopClassesInStudy = "0008,0062"

    /// Orthanc's public content (as `DicomMoveScu`, without a target).
    public static func content(_ request: QueryRequest) -> JSONValue {
        ModalityMoveJob.content(request)
    }

    public func run(_ job: JobRecord, context: JobContext) async throws -> JobResult {
        let request = try QueryRequest(json: job.request)
        let peer = try request.peer(maximumPDU: maximumPDU, through: associations)
        let model = request.level == .patient ? QuerySCU.patientRootGet : QuerySCU.studyRootGet
        let ingest = self.ingest
        let handler: @Sendable (ReceivedInstance) -> StoreHandling = { ingest.handle($0) }
        let (folder, syntaxes) = (incomingFolder, transferSyntaxes)
        return try await RetrieveLoop.run(job, context: context, request: request, operation: "C-GET") { _, query in
            var query = query
            let sopClasses = query.removeValue(forKey: Self.sopClassesInStudy).map {
                $0.split(separator: "\\").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            } ?? []
            let attributes = QueryRequest.attributes(query)
            return try await associations.blocking { () throws(TesseraError) -> QuerySCU.MoveResult in
                try QuerySCU.get(peer: peer, model: model, query: attributes, sopClasses: sopClasses, transferSyntaxes: syntaxes,
                                 incomingFolder: folder, answerTimeout: .seconds(120), handler: handler)
            }
        }
    }
}
