import DICOM
import Foundation
import Model

/// Applies a ``ModifyRequest`` to one DICOM file, in Orthanc's order: private tags removed, top-level removals and
/// replacements, identifiers regenerated for the request's level (unless replaced or kept), then the paths inside
/// sequences. The file keeps its transfer syntax.
public struct InstanceModifier: Sendable {
    /// The character set text is written in when the file declares none (Orthanc's DefaultEncoding, as a defined term).
    public let defaultCharset: String

    public init(defaultCharset: String) {
        self.defaultCharset = defaultCharset
    }

    /// The modified file. Throws `badFileFormat` when `bytes` are not DICOM, `badRequest` or `badParameterType` when
    /// a value cannot be written, `notImplemented` for Transcode.
    public func modify(_ bytes: some Collection<UInt8>, with request: ModifyRequest) throws(TesseraError) -> [UInt8] {
        try modify(try DicomFile(bytes: bytes), with: request)
    }

    /// The modified file; `file` is changed in place (load it whole: every value is written back).
    public func modify(_ file: DicomFile, with request: ModifyRequest) throws(TesseraError) -> [UInt8] {
        if let syntax = request.transcode {
            throw TesseraError(.notImplemented, details: "Transcoding (\"Transcode\": \"\(syntax)\") is not supported yet")
        }
        if request.removePrivateTags {
            // Private tags named in Keep survive.
            try file.removePrivateTags(keeping: request.kept.filter { $0.group % 2 == 1 })
        }
        for path in request.removals where path.prefix.isEmpty {
            try file.remove(path.tag)
        }
        for (path, value) in request.replacements where path.prefix.isEmpty {
            try set(path.tag, to: value, in: "", file: file, request: request)
        }
        let level = request.level
        let regenerated: [(ResourceLevel, DicomTag)] = [(.study, .studyInstanceUID), (.series, .seriesInstanceUID),
                                                        (.instance, .sopInstanceUID)]
        for (uidLevel, tag) in regenerated where level.depth <= uidLevel.depth && !request.replaces(tag) && !request.kept.contains(tag) {
            try file.replace(tag, with: Array(DicomUID.generate(for: uidLevel).utf8), defaultCharset: defaultCharset,
                             privateCreator: request.privateCreator)
        }
        for path in request.removals where !path.prefix.isEmpty {
            try file.remove(path.tag, in: path.dcmtkPrefix)
        }
        for (path, value) in request.replacements where !path.prefix.isEmpty {
            try set(path.tag, to: value, in: path.dcmtkPrefix, file: file, request: request)
        }
        return try file.encoded()
    }

    /// Writes one JSON value: a string (UTF-8, or a `data:...;base64,` URI decoded to bytes), or a list of items
    /// (objects of tag to value) for a sequence.
    private func set(_ tag: DicomTag, to value: JSONValue, in prefix: String, file: DicomFile, request: ModifyRequest) throws(TesseraError) {
        switch value {
        case .string(let text):
            if let bytes = try Self.dataURI(text) {
                try file.replace(tag, with: bytes, binary: true, in: prefix, defaultCharset: defaultCharset, privateCreator: request.privateCreator)
            } else {
                try file.replace(tag, with: Array(text.utf8), in: prefix, defaultCharset: defaultCharset, privateCreator: request.privateCreator)
            }
        case .null:
            try file.replace(tag, with: [], in: prefix, defaultCharset: defaultCharset, privateCreator: request.privateCreator)
        case .array(let items):
            try file.replaceSequence(tag, items: items.count, in: prefix)
            let sequence = (prefix.isEmpty ? "" : prefix + ".") + "(\(tag))"
            for (index, item) in items.enumerated() {
                guard case .object(let members) = item else {
                    throw TesseraError(.badParameterType, details: "The items of a sequence must be JSON objects")
                }
                for (name, member) in members.sorted(by: { $0.key < $1.key }) {
                    try set(try DicomContent.parseTag(name), to: member, in: "\(sequence)[\(index)]", file: file, request: request)
                }
            }
        default:
            throw TesseraError(.badParameterType, details: "The value of \(tag) must be a string or a list of items")
        }
    }

    /// The bytes of a `data:<mime>;base64,<data>` URI; nil when `text` is not one.
    static func dataURI(_ text: String) throws(TesseraError) -> [UInt8]? {
        guard text.hasPrefix("data:"), let comma = text.firstIndex(of: ","), text[..<comma].hasSuffix(";base64") else { return nil }
        guard let data = Data(base64Encoded: String(text[text.index(after: comma)...])) else {
            throw TesseraError(.badFileFormat, details: "Invalid base64 data in a data URI")
        }
        return Array(data)
    }
}
