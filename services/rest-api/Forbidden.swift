import Hummingbird

/// Orthanc's 403 for writes it refuses (system metadata, the DICOM attachment): no body.
struct Forbidden: Error, HTTPResponseError {
    var status: HTTPResponse.Status { .forbidden }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(status: .forbidden)
    }
}
