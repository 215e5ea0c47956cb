import Foundation
import Hummingbird
import Index
import Jobs
import Model

/// The body of a `/modalities/{id}/store` or `/peers/{id}/store` call: an identifier alone (Orthanc <= 0.5.1's
/// form) or JSON, resolved by ``ResourceSelection``.
struct ExportSelection {
    let selection: ResourceSelection
    var maximumBodySize = 16 << 20

    /// The request's body as JSON (a bare identifier becomes a JSON string).
    func body(_ request: Request) async throws -> JSONValue {
        var request = request
        let buffer = try await request.collectBody(upTo: maximumBodySize)
        let text = String(decoding: Data(buffer: buffer), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if PublicID(validating: text) != nil { return .string(text) }
        guard let value = try? JSONValue.parse(Data(text.utf8)) else {
            throw TesseraError(.badFileFormat, details: "Must provide a JSON value")
        }
        return value
    }

    /// The resources asked for and the instances below them (see ``ResourceSelection``).
    func resolve(_ body: JSONValue, exportedTo remote: String) async throws -> (parents: [String], instances: [PublicID]) {
        try await selection.resolve(body, exportedTo: remote)
    }
}
