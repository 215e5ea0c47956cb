import HTTPTypes
import Hummingbird
import Model

/// Orthanc's revision headers on metadata and attachments: `If-Match` on writes (required for replacements and
/// deletions when `CheckRevisions` is true), `If-None-Match` on reads (304 when the client's copy is current).
struct RevisionHeaders: Sendable {
    /// `CheckRevisions`.
    let checkRevisions: Bool

    /// What a PUT may replace: the `If-Match` given, else anything (or nothing, when `CheckRevisions` is true).
    func forWrite(_ request: Request) throws(TesseraError) -> RevisionCheck {
        if let tag = try Self.tag(request, .ifMatch, named: "if-match") { return .matching(tag) }
        return checkRevisions ? .absent : .none
    }

    /// What a DELETE may remove: as Orthanc, a missing `If-Match` under `CheckRevisions` is refused before anything
    /// is looked up.
    func forDelete(_ request: Request) throws(TesseraError) -> RevisionCheck {
        if let tag = try Self.tag(request, .ifMatch, named: "if-match") { return .matching(tag) }
        guard !checkRevisions else {
            throw TesseraError(.revision, details: "HTTP header \"If-Match\" is missing, as \"CheckRevisions\" is \"true\"")
        }
        return .none
    }

    /// Whether the client's `If-None-Match` names the current revision (answer 304 then).
    static func isCurrent(_ request: Request, _ current: EntityTag) throws(TesseraError) -> Bool {
        try tag(request, .ifNoneMatch, named: "If-None-Match") == current
    }

    /// A 304 carrying the current ETag, as Orthanc's.
    static func notModified(_ current: EntityTag) -> Response {
        Response(status: .notModified, headers: [.eTag: current.description])
    }

    private static func tag(_ request: Request, _ field: HTTPField.Name, named name: String) throws(TesseraError) -> EntityTag? {
        guard let value = request.headers[field] else { return nil }
        return try EntityTag.parse(value, header: name)
    }
}
