import Foundation

/// Orthanc's transcoding configuration: `IngestTranscoding` (a transfer syntax UID every received instance is
/// re-encoded in, off when absent), `IngestTranscodingOfUncompressed` and `IngestTranscodingOfCompressed` (which
/// sources it applies to, both true by default; deflated counts as compressed), `DicomLossyTranscodingQuality` (the
/// IJG quality of lossy JPEG targets, 1-100, 90 by default).
public struct TranscodingSettings: Sendable, Equatable {
    public var ingestSyntax: String?
    public var ingestUncompressed = true
    public var ingestCompressed = true
    public var lossyQuality = 90
    /// `TranscodeDicomProtocol`: whether C-STORE to modalities may decompress a file the peer does not accept.
    public var transcodeDicomProtocol = true

    public init() {}

    /// The uncompressed transfer syntaxes (Orthanc's `IsUncompressedTransferSyntax`).
    public static let uncompressed: Set<String> = ["1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2"]

    /// Syntaxes never transcoded (video, MIME encapsulation, XML): their content is not a decodable image.
    public static let untouched: Set<String> = Set((100...108).map { "1.2.840.10008.1.2.4.\($0)" })
        .union(["1.2.840.10008.1.2.6.1", "1.2.840.10008.1.2.6.2"])

    /// Whether `syntax` is lossy (JPEG baseline and extended, JPEG-LS near-lossless, JPEG 2000): re-encoding in it
    /// gives an instance a new SOP Instance UID.
    public static func isLossy(_ syntax: String) -> Bool {
        ["1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.81", "1.2.840.10008.1.2.4.91",
         "1.2.840.10008.1.2.4.93"].contains(syntax)
    }

    /// Whether an instance received in `source` is to be re-encoded at ingest, and in which syntax.
    public func ingestTarget(for source: String) -> String? {
        guard let target = ingestSyntax, !source.isEmpty, source != target, !Self.untouched.contains(source) else { return nil }
        return Self.uncompressed.contains(source) ? (ingestUncompressed ? target : nil) : (ingestCompressed ? target : nil)
    }

    /// A transfer syntax UID given by a client or the configuration, checked against those Orthanc knows: throws
    /// `parameterOutOfRange` "Unknown transfer syntax" otherwise.
    public static func validate(_ uid: String) throws(TesseraError) -> String {
        let trimmed = uid.trimmingCharacters(in: .whitespaces)
        guard TransferSyntaxPolicy.known.contains(where: { $0.uid == trimmed })
                || ["1.2.840.10008.1.2.6.1", "1.2.840.10008.1.2.6.2"].contains(trimmed) else {
            throw TesseraError(.parameterOutOfRange, details: "Unknown transfer syntax: \(uid)")
        }
        return trimmed
    }
}
