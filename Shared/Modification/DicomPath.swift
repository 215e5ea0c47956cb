import DICOM
import Model

/// A tag, at the top level or inside sequence items, as Orthanc 1.9.4+ writes it in Replace, Remove and Keep:
/// `PatientName`, `0010,0010`, `ReferencedSeriesSequence[0].SeriesInstanceUID`, `[*]` for every item.
public struct DicomPath: Sendable, Hashable, CustomStringConvertible {
    /// A sequence and the items in it the path goes through (nil: every item).
    public struct Step: Sendable, Hashable {
        public let sequence: DicomTag
        public let item: Int?
    }

    /// The sequences on the way (empty: a top-level tag).
    public let prefix: [Step]
    /// The tag the path ends with.
    public let tag: DicomTag

    public init(prefix: [Step] = [], tag: DicomTag) {
        self.prefix = prefix
        self.tag = tag
    }

    /// Parses Orthanc's syntax; throws `badRequest` (or `unknownDicomTag`) for anything else.
    public static func parse(_ text: String) throws(TesseraError) -> DicomPath {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        var steps: [Step] = []
        for (position, part) in parts.enumerated() {
            let isLast = position == parts.count - 1
            if let open = part.firstIndex(of: "[") {
                guard !isLast, part.hasSuffix("]") else {
                    throw TesseraError(.badRequest, details: "Cannot parse this DICOM path: \(text)")
                }
                let index = String(part[part.index(after: open)..<part.index(before: part.endIndex)])
                let sequence = try DicomContent.parseTag(String(part[..<open]))
                if index == "*" {
                    steps.append(Step(sequence: sequence, item: nil))
                } else if let number = Int(index), number >= 0, index.allSatisfy({ $0.isASCII && $0.isNumber }) {
                    steps.append(Step(sequence: sequence, item: number))
                } else {
                    throw TesseraError(.badRequest, details: "Cannot parse this DICOM path: \(text)")
                }
            } else {
                guard isLast, !part.isEmpty else { throw TesseraError(.badRequest, details: "Cannot parse this DICOM path: \(text)") }
                return DicomPath(prefix: steps, tag: try DicomContent.parseTag(part))
            }
        }
        throw TesseraError(.badRequest, details: "Cannot parse this DICOM path: \(text)")
    }

    /// The prefix in DCMTK's path syntax (`(0008,1115)[0].(0008,1199)[*]`); empty for a top-level tag.
    public var dcmtkPrefix: String {
        prefix.map { step in "(\(step.sequence))[\(step.item.map(String.init) ?? "*")]" }.joined(separator: ".")
    }

    /// Orthanc's formatting (`0008,1115[0].0020,000e`).
    public var description: String {
        (prefix.map { "\($0.sequence)[\($0.item.map(String.init) ?? "*")]" } + [tag.description]).joined(separator: ".")
    }
}
