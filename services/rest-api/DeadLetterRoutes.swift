import Foundation
import Hummingbird
import Index
import Model

/// Tessera's own admin routes over the indexer's dead letters (events and blobs that could not be indexed):
/// `GET /tessera/dead-letters` (`since`, `limit`, paged as `/changes`), `GET /tessera/dead-letters/{id}/payload`
/// (the event as it was read from the broker), `DELETE /tessera/dead-letters/{id}`.
struct DeadLetterRoutes {
    let store: DeadLetterStore

    func add(to router: Router<APIRequestContext>) {
        router.get("/tessera/dead-letters") { request, _ in
            let parameters = try ListParameters(request)
            let limit = min(parameters.limit ?? 100, 1_000)
            let fetched = try await store.list(since: Int64(clamping: parameters.since), limit: limit + 1)
            let page = Array(fetched.prefix(limit))
            return OrthancJSON.response(.object([
                "DeadLetters": .array(page.map(Self.json)),
                "Done": .bool(fetched.count <= limit),
                "Last": .number(Double(page.last?.id ?? 0)),
                "Count": .number(Double(try await store.count())),
            ]))
        }
        router.get("/tessera/dead-letters/{letter}/payload") { _, context in
            guard let id = context.parameters.get("letter").flatMap(Int64.init), let payload = try await store.payload(id) else {
                throw TesseraError(.unknownResource)
            }
            return Response(status: .ok, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(bytes: payload)))
        }
        router.delete("/tessera/dead-letters/{letter}") { _, context in
            guard let id = context.parameters.get("letter").flatMap(Int64.init), try await store.remove(id) else {
                throw TesseraError(.unknownResource)
            }
            return OrthancJSON.response(.object([:]))
        }
    }

    static func json(_ letter: DeadLetter) -> JSONValue {
        var object: [String: JSONValue] = [
            "ID": .number(Double(letter.id)),
            "CreationTime": .string(OrthancDate.format(letter.createdAt)),
            "Source": .string(letter.source.rawValue),
            "Reason": .string(letter.reason),
            "PayloadSize": .number(Double(letter.payloadSize)),
        ]
        if let details = letter.details { object["Details"] = .string(details) }
        if let topic = letter.topic { object["Topic"] = .string(topic) }
        if let partition = letter.partition { object["Partition"] = .number(Double(partition)) }
        if let offset = letter.offset { object["Offset"] = .number(Double(offset)) }
        if let blob = letter.blob { object["FileUuid"] = .string(blob) }
        if let instance = letter.instance { object["Instance"] = .string(instance) }
        return .object(object)
    }
}
