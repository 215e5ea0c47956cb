/// Orthanc's ETag of a metadata entry or an attachment: `"<revision>-<md5>"`, the entry's revision (0 when created, +1
/// on each replacement) and the MD5 of its (uncompressed) value. Clients send it back in `If-Match` to write only over
/// what they read, and in `If-None-Match` to skip an unchanged value.
public struct EntityTag: Sendable, Hashable, CustomStringConvertible {
    public var revision: Int64
    /// Lowercase hexadecimal; compared as it is (an uppercase MD5 does not match, as in Orthanc).
    public var md5: String

    public init(revision: Int64, md5: String) {
        self.revision = revision
        self.md5 = md5
    }

    /// The header value, quoted.
    public var description: String { "\"\(revision)-\(md5)\"" }

    /// Parses a header value as Orthanc does: surrounding spaces stripped, then one pair of surrounding double quotes;
    /// the revision is what precedes the first `-` (an integer, `+` sign and leading zeros allowed), the MD5 the rest.
    /// `header` names the header in the error (Orthanc writes `if-match` and `If-None-Match`).
    public static func parse(_ value: String, header: String) throws(TesseraError) -> EntityTag {
        var text = Substring(value).drop { $0 == " " }
        while text.last == " " { text = text.dropLast() }
        if text.count >= 2, text.first == "\"", text.last == "\"" { text = text.dropFirst().dropLast() }
        if let dash = text.firstIndex(of: "-"), let revision = Self.integer(text[..<dash]) {
            return EntityTag(revision: revision, md5: String(text[text.index(after: dash)...]))
        }
        throw TesseraError(.parameterOutOfRange,
                           details: "The \"\(header)\" HTTP header should contain the ETag (revision followed by MD5 hash), but found: \(text)")
    }

    private static func integer(_ text: Substring) -> Int64? {
        var digits = text
        if digits.first == "+" { digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int64(digits)
    }
}
