import Foundation
import Hummingbird
import Index
import Model

/// Orthanc's run-time settings of the DICOM server: `GET|PUT /tools/accepted-transfer-syntaxes` and `GET|PUT
/// /tools/unknown-sop-class-accepted`. Stored in the index, so that every gateway replica applies them to its new
/// associations within seconds (Orthanc keeps them in its process's memory).
struct ScpSettingsRoutes {
    let store: ScpSettingsStore
    let configuration: TesseraConfiguration

    func add(to router: Router<APIRequestContext>) {
        router.get("/tools/accepted-transfer-syntaxes") { _, _ in
            let syntaxes = try await store.current().acceptedTransferSyntaxes ?? configuration.transferSyntaxes.accepted
            return OrthancJSON.response(.array(syntaxes.map(JSONValue.string)))
        }
        router.put("/tools/accepted-transfer-syntaxes") { request, _ in
            let syntaxes = TransferSyntaxPolicy.expand(try await Self.patterns(request))
            try await store.setAcceptedTransferSyntaxes(syntaxes)
            return OrthancJSON.response(.array(syntaxes.map(JSONValue.string)))
        }
        router.get("/tools/unknown-sop-class-accepted") { _, _ in
            let accepted = try await store.current().unknownSopClassAccepted ?? configuration.unknownSopClassAccepted
            return MetadataRoutes.text(accepted ? "1" : "0", etag: nil)
        }
        router.put("/tools/unknown-sop-class-accepted") { request, _ in
            var request = request
            let body = String(decoding: Data(buffer: try await request.collectBody(upTo: 1024)), as: UTF8.self)
            let accepted: Bool
            switch body.trimmingCharacters(in: .whitespacesAndNewlines) {
            case "1", "true": accepted = true
            case "0", "false": accepted = false
            default: throw TesseraError(.parameterOutOfRange, details: "Boolean value expected")
            }
            try await store.setUnknownSopClassAccepted(accepted)
            return MetadataRoutes.text("", etag: nil)
        }
    }

    /// Orthanc's body: a JSON array of strings, a JSON string, or text that is not JSON (one pattern).
    static func patterns(_ request: Request) async throws -> [String] {
        var request = request
        let data = Data(buffer: try await request.collectBody(upTo: 1 << 20))
        guard let json = try? JSONValue.parse(data) else {
            return [String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)]
        }
        switch json {
        case .string(let pattern): return [pattern]
        case .array(let items):
            return try items.map { item throws(TesseraError) in
                guard let pattern = item.stringValue else {
                    throw TesseraError(.badFileFormat, details: "Expected a list of strings (transfer syntax UIDs)")
                }
                return pattern
            }
        default:
            throw TesseraError(.badFileFormat, details: "Expected a string or a list of strings (transfer syntax UIDs)")
        }
    }
}
