/// Orthanc's metadata: system entries with fixed codes and user entries (codes 1024 to 65535, named in the
/// `UserMetadata` configuration). Names and numbers are both accepted in URLs.
public struct MetadataName: Sendable, Hashable {
    public let code: Int

    public init(code: Int) {
        self.code = code
    }

    /// Orthanc's system metadata (`MetadataType`).
    public static let system: [(String, Int)] = [
        ("IndexInSeries", 1), ("ReceptionDate", 2), ("RemoteAET", 3), ("ExpectedNumberOfInstances", 4),
        ("ModifiedFrom", 5), ("AnonymizedFrom", 6), ("LastUpdate", 7), ("Origin", 8), ("TransferSyntax", 9),
        ("SopClassUid", 10), ("RemoteIP", 11), ("CalledAET", 12), ("HttpUsername", 13), ("PixelDataOffset", 14),
        ("MainDicomTagsSignature", 15), ("Datashare", 1000),
    ]

    public static let userRange = 1024...65535

    /// Tessera's system entry of an instance received through a datashare of the edge receiver (its ID; read-only).
    public static let datashare = MetadataName(code: 1000)
    /// The resource a modified one was made from.
    public static let modifiedFrom = MetadataName(code: 5)
    /// The resource an anonymized one was made from.
    public static let anonymizedFrom = MetadataName(code: 6)

    public var isUser: Bool { Self.userRange.contains(code) }

    /// A name (system, declared user name) or a number; nil when neither.
    public static func parse(_ text: String, user: [String: Int]) -> MetadataName? {
        if let code = Int(text), code >= 0 { return MetadataName(code: code) }
        if let code = system.first(where: { $0.0 == text })?.1 ?? user[text] { return MetadataName(code: code) }
        return nil
    }

    /// The name Orthanc prints: the system or declared user name, else the number.
    public func name(user: [String: Int]) -> String {
        Self.system.first(where: { $0.1 == code })?.0
            ?? user.filter { $0.value == code }.map(\.key).min()
            ?? String(code)
    }
}
