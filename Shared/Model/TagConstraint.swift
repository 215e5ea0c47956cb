/// One `Query` entry of `/tools/find`, classified as Orthanc's `DatabaseLookup` does: a range for dates and times
/// containing `-`, a list when the value holds `\`, a wildcard match for text VRs containing `*` or `?`, else an
/// exact match.
public struct TagConstraint: Sendable, Hashable {
    /// How a value is compared.
    public enum Kind: Sendable, Hashable {
        /// Exactly this value.
        case equal(String)
        /// A pattern where `*` is any run of characters and `?` any one character.
        case wildcard(String)
        /// Between two bounds, both inclusive; a missing bound is open.
        case range(lower: String?, upper: String?)
        /// Any one of these values.
        case list([String])
    }

    public let tag: DicomTag
    public let kind: Kind
    public let caseSensitive: Bool

    public init(tag: DicomTag, kind: Kind, caseSensitive: Bool) {
        self.tag = tag
        self.kind = kind
        self.caseSensitive = caseSensitive
    }

    /// Value representations whose queries may hold wildcards (Orthanc 1.6.0 and later).
    public static let wildcardVRs: Set<String> = ["AE", "CS", "LO", "LT", "PN", "SH", "ST", "UC", "UR", "UT"]
    /// Value representations that take range matching.
    public static let rangeVRs: Set<String> = ["DA", "DT", "TM"]

    /// Classifies `value` for a tag of value representation `vr`; nil for an empty value (universal matching).
    /// `caseSensitive` applies to every VR, as in Orthanc's REST lookups (C-FIND applies it to person names only).
    /// A `*` or `?` in a value of a VR without wildcard matching is refused, as Orthanc refuses it.
    public static func parse(tag: DicomTag, vr: String, value: String, caseSensitive: Bool) throws(TesseraError) -> TagConstraint? {
        guard !value.isEmpty else { return nil }
        let kind: Kind
        if rangeVRs.contains(vr), let dash = value.firstIndex(of: "-") {
            let lower = String(value[..<dash]), upper = String(value[value.index(after: dash)...])
            kind = .range(lower: lower.isEmpty ? nil : lower, upper: upper.isEmpty ? nil : upper)
        } else if value.contains("\\") {
            kind = .list(value.split(separator: "\\", omittingEmptySubsequences: false).map(String.init))
        } else if value.contains(where: { $0 == "*" || $0 == "?" }) {
            guard wildcardVRs.contains(vr) else {
                throw TesseraError(.parameterOutOfRange, details: "Wildcards are not allowed on tag \(tag)")
            }
            kind = .wildcard(value)
        } else {
            kind = .equal(value)
        }
        return TagConstraint(tag: tag, kind: kind, caseSensitive: caseSensitive)
    }

    /// Whether a resource whose value for the tag is `value` (nil when absent) matches.
    public func matches(_ value: String?) -> Bool {
        guard let value else { return false }
        let subject = fold(value)
        switch kind {
        case .equal(let expected):
            return subject == fold(expected)
        case .list(let values):
            return values.contains { fold($0) == subject }
        case .range(let lower, let upper):
            if let lower, value < lower { return false }
            if let upper, value > upper { return false }
            return true
        case .wildcard(let pattern):
            return Self.wildcardMatch(Array(subject.unicodeScalars), Array(fold(pattern).unicodeScalars))
        }
    }

    /// The SQL `LIKE` pattern of a wildcard (`*` → `%`, `?` → `_`, with `%`, `_` and `\` escaped by `\`).
    public static func likePattern(_ wildcard: String) -> String {
        var pattern = ""
        for character in wildcard {
            switch character {
            case "*": pattern.append("%")
            case "?": pattern.append("_")
            case "%", "_", "\\": pattern.append("\\"); pattern.append(character)
            default: pattern.append(character)
            }
        }
        return pattern
    }

    private func fold(_ text: String) -> String { caseSensitive ? text : text.uppercased() }

    private static func wildcardMatch(_ text: [Unicode.Scalar], _ pattern: [Unicode.Scalar]) -> Bool {
        // Iterative matching with backtracking to the last `*`: linear memory, no recursion on hostile input.
        var t = 0, p = 0, star = -1, mark = 0
        while t < text.count {
            if p < pattern.count, pattern[p] == "?" || pattern[p] == text[t] {
                t += 1; p += 1
            } else if p < pattern.count, pattern[p] == "*" {
                star = p; mark = t; p += 1
            } else if star >= 0 {
                p = star + 1; mark += 1; t = mark
            } else {
                return false
            }
        }
        while p < pattern.count, pattern[p] == "*" { p += 1 }
        return p == pattern.count
    }
}
