import DICOM
import Index
import Model

/// The loop `DicomMoveScu` and `DicomGetScu` jobs share: one retrieve per query of the request, in order, from the
/// job's cursor, the position of the next recorded after each. A final failure status fails the job with Orthanc's
/// wording (`C-MOVE SCU to AET ... has failed with DIMSE status 0x...`).
enum RetrieveLoop {
    static func run(_ job: JobRecord, context: JobContext, request: QueryRequest, operation: String,
                    retrieve: ([(DicomTag, String)], [String: String]) async throws -> QuerySCU.MoveResult) async throws -> JobResult {
        let content = ModalityMoveJob.content(request)
        var position = job.cursor["Position"]?.intValue ?? 0
        while position < request.queries.count {
            if let reason = context.stopReason { return .stopped(reason) }
            let query = request.queries[position]
            let result = try await retrieve(QueryRequest.attributes(query), query)
            guard !DimseStatus(rawValue: result.status).isFailure else {
                throw TesseraError(.networkProtocol, details: "\(operation) SCU to AET \"\(request.remote.aet)\" has failed with DIMSE status 0x"
                                   + String(result.status, radix: 16, uppercase: true)
                                   + " (\(result.completed) completed, \(result.failed) failed sub-operations)")
            }
            position += 1
            if let reason = try await context.record(cursor: .object(["Position": .number(Double(position))]), content: content,
                                                     progress: position * 100 / request.queries.count) {
                return .stopped(reason)
            }
        }
        return .success(content)
    }
}
