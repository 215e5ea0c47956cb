import Foundation
import Hummingbird
import Logging
import Index
import Model

/// Turns every error a route throws into Orthanc's error answer: the HTTP status of its Orthanc code and, as
/// Orthanc does with `HttpDescribeErrors: true`, a JSON body with `HttpError`, `HttpStatus`, `Message`, `Method`,
/// `OrthancError`, `OrthancStatus`, `Uri` and `Details`.
struct OrthancErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as TesseraError {
            if error.code.httpStatus >= 500 {
                context.logger.error("Request failed", metadata: ["uri": "\(request.uri.path)", "error": "\(error)"])
            }
            return Self.response(for: error, request: request)
        } catch is Forbidden {
            return Response(status: .forbidden)
        } catch let error as HTTPError where error.status == .notFound {
            return Self.response(for: TesseraError(.unknownResource), request: request)
        } catch let error as HTTPError {
            let code = OrthancErrorCode(code: OrthancErrorCode.badRequest.code, description: OrthancErrorCode.badRequest.description,
                                        httpStatus: Int(error.status.code))
            return Self.response(for: TesseraError(code, details: error.body), request: request)
        } catch let error as HTTPResponseError where error.status == .contentTooLarge {
            return Self.response(for: TesseraError(.requestTooLarge, details: "The body is larger than this route accepts"),
                                 request: request)
        } catch {
            // PostgreSQL down or restarting: 503 (the client may retry); a statement past its timeout: 504.
            if let mapped = DatabaseFailure.tesseraError(for: error) {
                if mapped.code.httpStatus >= 500 {
                    context.logger.error("Request failed", metadata: ["uri": "\(request.uri.path)", "error": "\(mapped)"])
                }
                return Self.response(for: mapped, request: request)
            }
            context.logger.error("Request failed", metadata: ["uri": "\(request.uri.path)", "error": "\(String(reflecting: error))"])
            return Self.response(for: TesseraError(.internalError, details: String(describing: error)), request: request)
        }
    }

    /// The reason phrases Orthanc prints in `HttpError`.
    static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 409: "Conflict"
        case 413: "Request Entity Too Large"
        case 415: "Unsupported Media Type"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        case 507: "Insufficient Storage"
        default: HTTPResponse.Status(code: status).reasonPhrase
        }
    }

    static func response(for error: TesseraError, request: Request) -> Response {
        let status = HTTPResponse.Status(code: error.code.httpStatus)
        var body: [String: JSONValue] = [
            "HttpError": .string(Self.reasonPhrase(error.code.httpStatus)),
            "HttpStatus": .number(Double(error.code.httpStatus)),
            "Message": .string(error.message),
            "Method": .string(request.method.rawValue),
            "OrthancError": .string(error.code.description),
            "OrthancStatus": .number(Double(error.code.code)),
            "Uri": .string(request.uri.path),
        ]
        if let details = error.details { body["Details"] = .string(details) }
        var response = OrthancJSON.response(.object(body))
        response.status = status
        return response
    }
}
