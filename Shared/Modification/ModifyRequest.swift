import Model

/// The body of Orthanc's `/modify` routes, checked as Orthanc 1.12's `DicomModification::ParseModifyRequest` checks it.
public struct ModifyRequest: Sendable {
    /// Tags and paths removed (top-level ones first, in tag order, then paths in the order given).
    public private(set) var removals: [DicomPath] = []
    /// Tags and paths set to a value (a string, a data URI, or a list of items for a sequence).
    public private(set) var replacements: [(path: DicomPath, value: JSONValue)] = []
    /// Identifiers kept rather than regenerated (StudyInstanceUID, SeriesInstanceUID, SOPInstanceUID), and private
    /// tags kept when RemovePrivateTags is set.
    public private(set) var kept: Set<DicomTag> = []
    public private(set) var removePrivateTags = false
    public private(set) var force = false
    /// The private creator of private tags that Replace inserts.
    public private(set) var privateCreator = ""
    /// The transfer syntax the modified file is re-encoded in (`Transcode`), a known UID.
    public private(set) var transcode: String?
    /// For an anonymization: the profile applied (its tables adjusted by Keep, Remove and Replace below).
    public private(set) var anonymization: AnonymizationProfile?
    /// Emptied where present, at the top level and inside sequences (anonymization).
    public private(set) var emptied: Set<DicomTag> = []
    /// Given a new value, one per original value, at the top level and inside sequences (anonymization).
    public private(set) var mapped: Set<DicomTag> = []
    /// Whether PatientName becomes `Anonymized<N>` (an anonymization that does not set it otherwise).
    public private(set) var generatesPatientName = false
    /// `KeepLabels` (Orthanc 1.12.3, modifications only): the new resources take the labels of the originals.
    public private(set) var keepLabels = false
    /// Strings are written as they are, a `data:` URI included (merge and split, as Orthanc's ReplacePlainString).
    public private(set) var literalValues = false

    public var isAnonymization: Bool { anonymization != nil }

    /// The tags whose identity defines a resource: changing or removing them needs `Force`.
    public static let identifiers: Set<DicomTag> = [.patientID, .studyInstanceUID, .seriesInstanceUID, .sopInstanceUID]

    public init(removals: [DicomPath] = [], replacements: [(path: DicomPath, value: JSONValue)] = [], kept: Set<DicomTag> = [],
                removePrivateTags: Bool = false, force: Bool = false, privateCreator: String = "", literalValues: Bool = false) {
        self.literalValues = literalValues
        self.removals = removals
        self.replacements = replacements
        self.kept = kept
        self.removePrivateTags = removePrivateTags
        self.force = force
        self.privateCreator = privateCreator
    }

    /// Parses a request body. Errors are Orthanc's: `badFileFormat` for a body that is not a JSON object or a member
    /// of the wrong type, `badRequest` for malformed lists and for identifiers touched without `Force`.
    public static func parse(_ body: JSONValue) throws(TesseraError) -> ModifyRequest {
        guard case .object(let members) = body else {
            throw TesseraError(.badFileFormat, details: "The body of a modification must be a JSON object")
        }
        var request = ModifyRequest()
        request.force = try boolean("Force", in: members)
        request.removePrivateTags = try boolean("RemovePrivateTags", in: members)
        request.keepLabels = try boolean("KeepLabels", in: members)
        if let remove = members["Remove"] {
            for path in try paths(remove, operation: "removed", force: request.force) {
                request.replacements.removeAll { $0.path == path }
                if !request.removals.contains(path) { request.removals.append(path) }
            }
        }
        for (path, value) in try replacements(members["Replace"], force: request.force) {
            request.replace(path, with: value)
        }
        if let keep = members["Keep"] {
            for path in try paths(keep, operation: "kept", force: request.force) where path.prefix.isEmpty {
                request.removals.removeAll { $0 == path }
                request.kept.insert(path.tag)
            }
        }
        request.privateCreator = try creator(members) ?? request.privateCreator
        if request.removals.contains(where: { $0.prefix.isEmpty && identifiers.contains($0.tag) }) {
            throw TesseraError(.badRequest, details: "It is forbidden to remove one of the main Dicom identifiers")
        }
        if let transcode = members["Transcode"] {
            guard case .string(let text) = transcode else {
                throw TesseraError(.badFileFormat, details: "The field \"Transcode\" in a JSON object should be a string")
            }
            request.transcode = try TranscodingSettings.validate(text)
        }
        return request
    }

    /// Parses the body of an `/anonymize` route as Orthanc's `ParseAnonymizationRequest`: the profile of `DicomVersion`
    /// (private tags removed unless `KeepPrivateTags`), then `Remove`, `Replace` and `Keep` adjusting it; PatientName
    /// generated unless Replace, Remove or Keep names it; PatientIdentityRemoved and DeidentificationMethod set.
    public static func parseAnonymization(_ body: JSONValue) throws(TesseraError) -> ModifyRequest {
        guard case .object(let members) = body else {
            throw TesseraError(.badFileFormat, details: "The body of an anonymization must be a JSON object")
        }
        var request = ModifyRequest()
        request.force = try boolean("Force", in: members)
        var version: String?
        if let value = members["DicomVersion"] {
            guard case .string(let text) = value else { throw TesseraError(.badFileFormat, details: "DicomVersion must be a string") }
            version = text
        }
        let profile = try AnonymizationProfile.named(version)
        request.anonymization = profile
        request.removals = profile.removed.sorted().map { DicomPath(tag: $0) }
        request.emptied = profile.emptied
        request.mapped = profile.mapped
        request.removePrivateTags = !(try boolean("KeepPrivateTags", in: members))
        var named: Set<DicomTag> = []
        if let remove = members["Remove"] {
            for path in try paths(remove, operation: "removed", force: request.force) {
                if path.prefix.isEmpty {
                    named.insert(path.tag)
                    request.emptied.remove(path.tag)
                    request.mapped.remove(path.tag)
                }
                request.replacements.removeAll { $0.path == path }
                if !request.removals.contains(path) { request.removals.append(path) }
            }
        }
        for (path, value) in try replacements(members["Replace"], force: request.force) {
            if path.prefix.isEmpty {
                named.insert(path.tag)
                request.emptied.remove(path.tag)
                request.mapped.remove(path.tag)
            }
            request.replace(path, with: value)
        }
        if let keep = members["Keep"] {
            for path in try paths(keep, operation: "kept", force: request.force) where path.prefix.isEmpty {
                named.insert(path.tag)
                request.removals.removeAll { $0 == path }
                request.emptied.remove(path.tag)
                request.mapped.remove(path.tag)
                request.kept.insert(path.tag)
            }
        }
        request.privateCreator = try creator(members) ?? request.privateCreator
        // DeidentificationMethod names the profile only when the file follows it exactly: any Keep, Remove or Replace,
        // or private tags kept, and Orthanc leaves it out.
        let adjusted = !named.isEmpty || !request.replacements.isEmpty || request.removals.count > profile.removed.count
            || !request.removePrivateTags
        if !named.contains(DicomTag(0x0012, 0x0062)) {
            request.replacements.insert((DicomPath(tag: DicomTag(0x0012, 0x0062)), .string("YES")), at: 0)
        }
        if !adjusted {
            request.replacements.append((DicomPath(tag: DicomTag(0x0012, 0x0063)), .string(profile.method)))
        }
        request.generatesPatientName = !named.contains(.patientName)
        if request.removals.contains(where: { $0.prefix.isEmpty && identifiers.contains($0.tag) }) {
            throw TesseraError(.badRequest, details: "It is forbidden to remove one of the main Dicom identifiers")
        }
        return request
    }

    /// Sets the generated PatientName (`Anonymized<N>`, N from the cluster's anonymization sequence).
    public mutating func setGeneratedPatientName(_ name: String) {
        guard generatesPatientName else { return }
        replacements.removeAll { $0.path == DicomPath(tag: .patientName) }
        replacements.append((DicomPath(tag: .patientName), .string(name)))
    }

    /// Parses the body of `/patients|studies|series/{id}/modify`, with Orthanc 1.12's checks of the identifiers the
    /// level allows to change (lifted by `Force`).
    public static func parse(_ body: JSONValue, resourceLevel: ResourceLevel) throws(TesseraError) -> ModifyRequest {
        let request = try parse(body)
        guard !request.force else { return request }
        let patientID = request.replaces(.patientID)
        switch resourceLevel {
        case .patient where !patientID:
            throw TesseraError(.badRequest, details: "When modifying a patient, her PatientID is required to be modified.")
        case .study where patientID:
            throw TesseraError(.badRequest, details: "When modifying a study, the parent PatientID cannot be manually modified")
        case .series where patientID:
            throw TesseraError(.badRequest, details: "When modifying a series, the parent PatientID cannot be manually modified")
        case .series where request.replaces(.studyInstanceUID):
            throw TesseraError(.badRequest, details: "When modifying a series, the parent StudyInstanceUID cannot be manually modified")
        default:
            return request
        }
    }

    /// The level whose identifiers are regenerated: a new PatientID makes a new patient (new study, series and
    /// instance UIDs), a new StudyInstanceUID a new study, and so on; otherwise only the SOP Instance UID is new.
    public var level: ResourceLevel {
        let replaced = Set(replacements.filter { $0.path.prefix.isEmpty }.map(\.path.tag))
        if replaced.contains(.patientID) { return .patient }
        if replaced.contains(.studyInstanceUID) { return .study }
        if replaced.contains(.seriesInstanceUID) { return .series }
        return .instance
    }

    /// Whether a top-level tag is replaced.
    public func replaces(_ tag: DicomTag) -> Bool {
        replacements.contains { $0.path.prefix.isEmpty && $0.path.tag == tag }
    }

    /// The members of `Replace` in name order, each path checked (identifiers need `Force`).
    private static func replacements(_ replace: JSONValue?, force: Bool) throws(TesseraError) -> [(DicomPath, JSONValue)] {
        guard let replace else { return [] }
        guard case .object(let values) = replace else {
            throw TesseraError(.badRequest, details: "\"Replace\" must be a JSON object")
        }
        var result: [(DicomPath, JSONValue)] = []
        for (name, value) in values.sorted(by: { $0.key < $1.key }) {
            let path = try DicomPath.parse(name)
            if path.prefix.isEmpty, !force, identifiers.contains(path.tag) {
                throw TesseraError(.badRequest, details: "Marking tag \"\(name)\" as to be replaced requires the \"Force\" option to be set to true")
            }
            result.append((path, value))
        }
        return result
    }

    /// A replacement cancels a removal or an earlier replacement of the same path.
    private mutating func replace(_ path: DicomPath, with value: JSONValue) {
        removals.removeAll { $0 == path }
        replacements.removeAll { $0.path == path }
        replacements.append((path, value))
    }

    /// `PrivateCreator`, when given.
    private static func creator(_ members: [String: JSONValue]) throws(TesseraError) -> String? {
        guard let creator = members["PrivateCreator"] else { return nil }
        guard case .string(let text) = creator else {
            throw TesseraError(.badFileFormat, details: "The field \"PrivateCreator\" in a JSON object should be a string")
        }
        return text
    }

    private static func boolean(_ name: String, in members: [String: JSONValue]) throws(TesseraError) -> Bool {
        guard let value = members[name] else { return false }
        guard case .bool(let flag) = value else {
            throw TesseraError(.badFileFormat, details: "Member \"\(name)\" should be a Boolean value")
        }
        return flag
    }

    private static func paths(_ list: JSONValue, operation: String, force: Bool) throws(TesseraError) -> [DicomPath] {
        guard case .array(let entries) = list else {
            throw TesseraError(.badRequest, details: "A list of tags must be a JSON array")
        }
        var paths: [DicomPath] = []
        for entry in entries {
            guard case .string(let name) = entry else { throw TesseraError(.badRequest, details: "A tag must be a string") }
            let path = try DicomPath.parse(name)
            if path.prefix.isEmpty, !force, identifiers.contains(path.tag) {
                throw TesseraError(.badRequest, details: "Marking tag \"\(name)\" as to be \(operation) requires the \"Force\" option to be set to true")
            }
            paths.append(path)
        }
        return paths
    }
}
