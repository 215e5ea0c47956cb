import Hummingbird
import Jobs
import Model

/// The options every long-running POST takes (Orthanc's `Synchronous`/`Asynchronous`, `Priority`, `Permissive`,
/// `UserData`).
struct JobOptions {
    var synchronous: Bool
    var priority: Int
    var permissive: Bool
    var userData: JSONValue?

    init(_ body: JSONValue, synchronousByDefault: Bool) throws(TesseraError) {
        func flag(_ key: String) throws(TesseraError) -> Bool? {
            guard let value = body[key] else { return nil }
            guard case .bool(let flag) = value else { throw TesseraError(.badFileFormat, details: "Boolean value expected in field: \(key)") }
            return flag
        }
        if let synchronous = try flag("Synchronous") {
            self.synchronous = synchronous
        } else if let asynchronous = try flag("Asynchronous") {
            self.synchronous = !asynchronous
        } else {
            self.synchronous = synchronousByDefault
        }
        if let value = body["Priority"] {
            guard let priority = value.intValue, Int32(exactly: priority) != nil else {
                throw TesseraError(.badFileFormat, details: "Integer value expected in field: Priority")
            }
            self.priority = priority
        } else {
            self.priority = 0
        }
        permissive = try flag("Permissive") ?? false
        userData = body["UserData"]
    }

    /// Submits a job with these options and answers as Orthanc: the job's content once it succeeded when the call is
    /// synchronous, else its `ID` and `Path`.
    func answer(_ submitter: JobSubmitter, type: String, request: JSONValue, content: JSONValue) async throws -> Response {
        let id = try await submitter.submit(.init(type: type, priority: priority, request: request, content: content,
                                                  userData: userData))
        guard synchronous else { return OrthancJSON.response(asynchronousAnswer(id)) }
        return OrthancJSON.response(try await submitter.wait(id))
    }

    /// Orthanc's answer to an asynchronous call.
    func asynchronousAnswer(_ id: String) -> JSONValue {
        .object(["ID": .string(id), "Path": .string("/jobs/\(id)")])
    }
}
