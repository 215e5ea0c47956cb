/// The transfer syntaxes the C-STORE SCP accepts, configured as Orthanc (>= 1.9) configures them:
/// `AcceptedTransferSyntaxes` (UIDs with `*` and `?` wildcards, default `["1.2.840.10008.1.*"]`, i.e. all of
/// them), then each group switch set to false (`JpegTransferSyntaxAccepted`, ...) removes its group.
public struct TransferSyntaxPolicy: Sendable, Equatable {
    /// A transfer syntax Orthanc knows, with the configuration group that switches it off.
    public struct Syntax: Sendable, Equatable {
        public let uid: String
        /// The name of the group switch (`"Jpeg"` for `JpegTransferSyntaxAccepted`), nil for uncompressed ones.
        public let group: String?
    }

    /// Orthanc 1.10's transfer syntaxes, Explicit VR Little Endian first (Orthanc's preference when an SCU offers
    /// several in one presentation context).
    public static let known: [Syntax] = {
        var all: [Syntax] = [
            .init(uid: "1.2.840.10008.1.2.1", group: nil), .init(uid: "1.2.840.10008.1.2", group: nil),
            .init(uid: "1.2.840.10008.1.2.2", group: nil), .init(uid: "1.2.840.10008.1.2.1.99", group: "Deflated"),
        ]
        // JPEG processes 1 to 29 (…4.50 to …4.66) and 14 selection value 1 (…4.70).
        all += (50...66).map { Syntax(uid: "1.2.840.10008.1.2.4.\($0)", group: "Jpeg") }
        all.append(.init(uid: "1.2.840.10008.1.2.4.70", group: "Jpeg"))
        all += [80, 81].map { Syntax(uid: "1.2.840.10008.1.2.4.\($0)", group: "JpegLossless") }
        all += (90...93).map { Syntax(uid: "1.2.840.10008.1.2.4.\($0)", group: "Jpeg2000") }
        all += [94, 95].map { Syntax(uid: "1.2.840.10008.1.2.4.\($0)", group: "Jpip") }
        all += [100, 101].map { Syntax(uid: "1.2.840.10008.1.2.4.\($0)", group: "Mpeg2") }
        all += (102...106).map { Syntax(uid: "1.2.840.10008.1.2.4.\($0)", group: "Mpeg4") }
        all += [107, 108].map { Syntax(uid: "1.2.840.10008.1.2.4.\($0)", group: "H265") }
        all.append(.init(uid: "1.2.840.10008.1.2.5", group: "Rle"))
        return all
    }()

    /// The group switches Orthanc reads, without the `TransferSyntaxAccepted` suffix.
    public static let groups = ["Deflated", "Jpeg", "Jpeg2000", "JpegLossless", "Jpip", "Mpeg2", "Mpeg4", "H265", "Rle"]

    /// `AcceptedTransferSyntaxes`.
    public var patterns: [String] = ["1.2.840.10008.1.*"]
    /// Groups switched off (`"Jpeg"` when `JpegTransferSyntaxAccepted` is false).
    public var disabledGroups: Set<String> = []

    public init() {}

    /// The accepted UIDs, in order of preference.
    public var accepted: [String] {
        Self.known.filter { syntax in
            patterns.contains { Self.matches(syntax.uid, pattern: $0) } && !(syntax.group.map(disabledGroups.contains) ?? false)
        }.map(\.uid)
    }

    /// The known UIDs some pattern matches, in order of preference (patterns matching nothing are ignored, as Orthanc
    /// ignores them).
    public static func expand(_ patterns: [String]) -> [String] {
        known.map(\.uid).filter { uid in patterns.contains { matches(uid, pattern: $0) } }
    }

    /// Glob matching with `*` (any run) and `?` (one character), as Orthanc's wildcard matching.
    static func matches(_ text: String, pattern: String) -> Bool {
        let text = Array(text.utf8), pattern = Array(pattern.utf8)
        var t = 0, p = 0, star = -1, mark = 0
        while t < text.count {
            if p < pattern.count && (pattern[p] == UInt8(ascii: "?") || pattern[p] == text[t]) {
                t += 1; p += 1
            } else if p < pattern.count && pattern[p] == UInt8(ascii: "*") {
                star = p; mark = t; p += 1
            } else if star >= 0 {
                p = star + 1; mark += 1; t = mark
            } else {
                return false
            }
        }
        while p < pattern.count && pattern[p] == UInt8(ascii: "*") { p += 1 }
        return p == pattern.count
    }
}
