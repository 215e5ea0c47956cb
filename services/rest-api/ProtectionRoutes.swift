import Hummingbird
import Index
import Model

/// `GET|PUT /patients/{id}/protected` as Orthanc answers them: `1` or `0` in plain text; PUT takes `1`, `0`, `true`
/// or `false` (spaces around allowed), else 400 "Boolean value expected"; an ID that is not a patient's is 400
/// "Parameter out of range". A protected patient is never recycled (``PatientRecycler``).
struct ProtectionRoutes {
    let protection: PatientProtection

    func add(to router: Router<APIRequestContext>) {
        router.get("/patients/{id}/protected") { _, context in
            guard let id = context.publicID, let protected = try await protection.isProtected(id) else {
                throw TesseraError(.parameterOutOfRange)
            }
            return MetadataRoutes.text(protected ? "1" : "0", etag: nil)
        }
        router.put("/patients/{id}/protected") { request, context in
            var request = request
            let body = String(buffer: try await request.collectBody(upTo: 1024)).trimmingCharacters(in: .whitespaces)
            let protected: Bool
            switch body {
            case "1", "true": protected = true
            case "0", "false": protected = false
            default: throw TesseraError(.badFileFormat, details: "Boolean value expected")
            }
            guard let id = context.publicID, try await protection.set(id, protected: protected) else {
                throw TesseraError(.parameterOutOfRange)
            }
            context.logger.info("Patient protection changed", metadata: ["patient": "\(id)", "protected": "\(protected)"])
            return MetadataRoutes.text("", etag: nil)
        }
        MethodNotAllowed.register(["/patients/{id}/protected"], on: router, allowed: [.get, .put])
    }
}
