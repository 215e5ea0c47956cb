import DICOM
import Foundation
import Model

/// `POST /tools/create-dicom` as Orthanc 1.10 does it: the body checked, then one new file (or one per item of a
/// `Content` list) made from new identifiers, the parent's module tags, the current date and time, the given tags and
/// the embedded content. Storing the files is the caller's (the normal ingest path).
public struct DicomCreation: Sendable {
    /// One instance's own part: its content (a data URI) and, for the items of a `Content` list, its own tags.
    public struct Item: Sendable {
        public var content: String
        public var tags: JSONValue?
    }

    /// `Tags` in name order (JSON object members are read sorted, as Orthanc's JSON library lists them).
    public var tags: [(name: String, value: JSONValue)]
    /// The SpecificCharacterSet given in `Tags`, checked.
    public var characterSet: String?
    /// One item for a single instance (its content may be empty: no content), several for a series.
    public var items: [Item]
    public var isSeries: Bool
    /// `Parent`: the public ID of a patient, study or series the instance is attached to.
    public var parent: String?
    public var interpretBinaryTags: Bool
    public var privateCreator: String
    public var force: Bool
    /// The body of Orthanc <= 0.9.3 (no `Tags`): every member a tag set as plain text, `PixelData` a data URI.
    public var isLegacy: Bool

    /// Checks a body as Orthanc's `CreateDicom` does (all errors 400 unless said): not an object, `Tags` not an
    /// object, a non-Boolean `InterpretBinaryTags` or `Force`, a non-string `PrivateCreator`: "Bad request"; an unknown
    /// SpecificCharacterSet: "Parameter out of range"; `Content` neither a string nor a list: Orthanc's
    /// CreateDicomUseDataUriScheme; an item without `Content`: CreateDicomNoPayload.
    public static func parse(_ body: JSONValue) throws(TesseraError) -> DicomCreation {
        guard case .object(let members) = body else { throw TesseraError(.badRequest) }
        guard let tagsValue = members["Tags"] else { return try legacy(members) }
        guard case .object(let tagMembers) = tagsValue else { throw TesseraError(.badRequest, details: "Tags field is not an array") }
        var creation = DicomCreation(tags: tagMembers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, characterSet: nil,
                                     items: [Item(content: "", tags: nil)], isSeries: false, parent: nil,
                                     interpretBinaryTags: true, privateCreator: "", force: false, isLegacy: false)
        if let value = tagMembers["SpecificCharacterSet"] {
            let text = value.stringValue ?? ""
            guard let canonical = DicomEncoding.canonicalCharacterSet(text) else {
                throw TesseraError(.parameterOutOfRange, details: "Unknown specific character set: \(text)")
            }
            creation.characterSet = canonical
        }
        if let value = members["Parent"] {
            guard case .string(let parent) = value else { throw TesseraError(.createDicomBadParent) }
            creation.parent = parent
        }
        creation.interpretBinaryTags = try flag(members["InterpretBinaryTags"]) ?? true
        if let value = members["PrivateCreator"] {
            guard case .string(let creator) = value else { throw TesseraError(.badRequest) }
            creation.privateCreator = creator
        }
        creation.force = try flag(members["Force"]) ?? false
        switch members["Content"] {
        case nil:
            break
        case .string(let content)?:
            creation.items = [Item(content: content, tags: nil)]
        case .array(let entries)? where !entries.isEmpty:
            creation.isSeries = true
            creation.items = try entries.map { entry throws(TesseraError) -> Item in
                switch entry {
                case .string(let content):
                    return Item(content: content, tags: nil)
                case .object(let fields):
                    guard let content = fields["Content"] else { throw TesseraError(.createDicomNoPayload) }
                    guard case .string(let text) = content else { throw TesseraError(.createDicomUseDataUriScheme) }
                    return Item(content: text, tags: fields["Tags"])
                default:
                    throw TesseraError(.createDicomUseDataUriScheme)
                }
            }
        case .array?:
            break
        default:
            throw TesseraError(.createDicomUseDataUriScheme)
        }
        return creation
    }

    private static func legacy(_ members: [String: JSONValue]) throws(TesseraError) -> DicomCreation {
        var tags: [(String, JSONValue)] = []
        var content = ""
        for (name, value) in members.sorted(by: { $0.key < $1.key }) {
            guard case .string(let text) = value else { throw TesseraError(.createDicomNotString) }
            if try DicomContent.parseTag(name) == .pixelData {
                content = text
            } else {
                tags.append((name, value))
            }
        }
        return DicomCreation(tags: tags, characterSet: nil, items: [Item(content: content, tags: nil)], isSeries: false,
                             parent: nil, interpretBinaryTags: false, privateCreator: "", force: true, isLegacy: true)
    }

    private static func flag(_ value: JSONValue?) throws(TesseraError) -> Bool? {
        guard let value else { return nil }
        guard case .bool(let flag) = value else { throw TesseraError(.badRequest) }
        return flag
    }

    /// Tags a new instance may set without `Force` although the file has them already (Orthanc's exceptions).
    static let settableWithoutForce: Set<DicomTag> = [
        .patientID, DicomTag(0x0008, 0x0022), DicomTag(0x0008, 0x0032), DicomTag(0x0008, 0x0023), DicomTag(0x0008, 0x0033),
        DicomTag(0x0008, 0x0012), DicomTag(0x0008, 0x0013), DicomTag(0x0008, 0x0021), DicomTag(0x0008, 0x0031),
        DicomTag(0x0008, 0x0020), DicomTag(0x0008, 0x0030),
    ]

    /// The files to store, in order. `parent` is the level of `Parent` and one instance below it (its module tags and
    /// character set are copied); `defaultCharset` is DefaultEncoding's SpecificCharacterSet.
    public func files(parent: (level: ResourceLevel, sibling: DicomFile)?, defaultCharset: String,
                      now: Date = Date()) throws(TesseraError) -> [[UInt8]] {
        let modifier = InstanceModifier(defaultCharset: defaultCharset)
        let base = try DicomFile.empty()
        func set(_ tag: DicomTag, _ value: String) throws(TesseraError) {
            try base.replace(tag, with: Array(value.utf8), defaultCharset: defaultCharset, privateCreator: "")
        }
        // New identifiers, as Orthanc's ParsedDicomFile(true).
        try set(.patientID, UUID().uuidString.lowercased())
        try set(.studyInstanceUID, DicomUID.generate(for: .study))
        try set(.seriesInstanceUID, DicomUID.generate(for: .series))
        try set(.sopInstanceUID, DicomUID.generate(for: .instance))
        if isLegacy {
            // No SpecificCharacterSet is written (Orthanc <= 0.9.3's form sets none); text goes in as DefaultEncoding.
            try modifier.inject(try values(tags), into: base, privateCreator: privateCreator, literal: true)
            return [try finish(base, content: items[0].content, defaultCharset: defaultCharset)]
        }
        var charset = characterSet ?? defaultCharset
        if let parent {
            // The parent's character set (the default when it has a wrong one), and the tags of its modules and above.
            if let theirs = parent.sibling.dataset.string(.specificCharacterSet) {
                charset = DicomEncoding.canonicalCharacterSet(theirs) ?? defaultCharset
            }
            try set(.specificCharacterSet, charset)
            let siblingCharset = DicomCharset(datasetOf: parent.sibling)
            var level: ResourceLevel? = parent.level
            while let current = level {
                for tag in DicomModule(current).tags.sorted() where parent.sibling.dataset.contains(tag) {
                    guard parent.sibling.dataset.valueRepresentation(tag) != "SQ" else { continue }
                    try set(tag, parent.sibling.dataset.text(tag, charset: siblingCharset) ?? "")
                }
                level = current.parent
            }
        } else {
            try set(.specificCharacterSet, charset)
        }
        // The current date and time (UTC), as Orthanc's GetNowDicom.
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: now)
        let date = String(format: "%04d%02d%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
        let time = String(format: "%02d%02d%02d.000000", parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0)
        var stamped: [(DicomTag, DicomTag)] = [(DicomTag(0x0008, 0x0022), DicomTag(0x0008, 0x0032)),
                                               (DicomTag(0x0008, 0x0023), DicomTag(0x0008, 0x0033)),
                                               (DicomTag(0x0008, 0x0012), DicomTag(0x0008, 0x0013))]
        if parent == nil || parent?.level == .patient || parent?.level == .study {
            stamped.append((DicomTag(0x0008, 0x0021), DicomTag(0x0008, 0x0031)))
        }
        if parent == nil || parent?.level == .patient {
            stamped.append((DicomTag(0x0008, 0x0020), DicomTag(0x0008, 0x0030)))
        }
        for (dateTag, timeTag) in stamped {
            try set(dateTag, date)
            try set(timeTag, time)
        }
        try inject(tags, into: base, modifier: modifier)
        guard isSeries else {
            return [try finish(base, content: items[0].content, defaultCharset: defaultCharset)]
        }
        try set(DicomTag(0x0020, 0x1002), String(items.count))
        try set(DicomTag(0x0020, 0x0105), "1")
        let template = try base.encoded()
        var files: [[UInt8]] = []
        for (index, item) in items.enumerated() {
            let file = try DicomFile(bytes: template)
            try file.replace(.sopInstanceUID, with: Array(DicomUID.generate(for: .instance).utf8), defaultCharset: defaultCharset,
                             privateCreator: "")
            if let own = item.tags {
                guard case .object(let members) = own else { throw TesseraError(.badRequest, details: "Tags field is not an array") }
                try inject(members.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, into: file, modifier: modifier)
            }
            try file.replace(.instanceNumber, with: Array(String(index + 1).utf8), defaultCharset: defaultCharset, privateCreator: "")
            try file.replace(DicomTag(0x0054, 0x1330), with: Array(String(index + 1).utf8), defaultCharset: defaultCharset,
                             privateCreator: "")
            files.append(try finish(file, content: item.content, defaultCharset: defaultCharset))
        }
        return files
    }

    /// Orthanc's `InjectTags`: SpecificCharacterSet skipped (it was set), a tag the file has already refused without
    /// `Force` (dates, times and PatientID aside), PixelData refused (`Content` carries images).
    private func inject(_ named: [(name: String, value: JSONValue)], into file: DicomFile,
                        modifier: InstanceModifier) throws(TesseraError) {
        var values: [(DicomTag, JSONValue)] = []
        for (name, value) in named {
            let tag = try DicomContent.parseTag(name)
            if tag == .specificCharacterSet { continue }
            if !force, !Self.settableWithoutForce.contains(tag), file.dataset.contains(tag) {
                throw TesseraError(.createDicomOverrideTag, details: name)
            }
            if tag == .pixelData { throw TesseraError(.createDicomUseContent) }
            values.append((tag, value))
        }
        try modifier.inject(values, into: file, privateCreator: privateCreator, literal: !interpretBinaryTags)
    }

    private func values(_ named: [(name: String, value: JSONValue)]) throws(TesseraError) -> [(DicomTag, JSONValue)] {
        var values: [(DicomTag, JSONValue)] = []
        for (name, value) in named { values.append((try DicomContent.parseTag(name), value)) }
        return values
    }

    /// The content embedded (when there is some), then the file written with a new meta header.
    private func finish(_ file: DicomFile, content: String, defaultCharset: String) throws(TesseraError) -> [UInt8] {
        if !content.isEmpty { try file.embed(dataURI: content, defaultCharset: defaultCharset) }
        return try file.encoded(freshMetaHeader: true)
    }
}
