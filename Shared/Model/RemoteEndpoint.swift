/// A remote system declared by name in the configuration and through the REST API: a DICOM modality
/// (`DicomModalities`) or an Orthanc peer (`OrthancPeers`).
public protocol RemoteEndpoint: Sendable, Equatable {
    /// Reads the configuration's or a `PUT` body's form; `badFileFormat` when it is wrong.
    init(json: JSONValue) throws(TesseraError)
    /// The form `GET /{collection}?expand` and `/{collection}/{id}/configuration` print.
    var json: JSONValue { get }
    /// What stored rows hold (the full definition, credentials included).
    var storedJSON: JSONValue { get }
    /// `modalities` or `peers`: the REST collection and the table of REST-declared ones.
    static var collection: String { get }
    /// Orthanc's 404 for an unknown name on reads and on deletion.
    static func unknown(_ name: String) -> TesseraError
    static func unknownOnDeletion(_ name: String) -> TesseraError
    /// Refuses a symbolic name this kind of endpoint cannot have.
    static func validate(name: String) throws(TesseraError)
}

extension RemoteEndpoint {
    public var storedJSON: JSONValue { json }

    public static func validate(name: String) throws(TesseraError) {}
}
