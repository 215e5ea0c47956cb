import DICOM
import Index
import Model
import QueryRetrieve

/// The body of `POST /tools/find`, validated as Orthanc 1.12 does, with each `Query` entry resolved to a main tag
/// the index can match or to a tag that must be read from the files.
struct FindRequest {
    var query: FindQuery
    /// Constraints on tags the index does not hold, checked against one instance file of each candidate.
    var fileConstraints: [TagConstraint]
    var expand: Bool
    var format: DicomJSONFormat
    /// Tag names (or `gggg,eeee`) to report under `RequestedTags` (with `Expand`).
    var requestedTags: [RequestedTag]

    /// A tag asked for in `RequestedTags`.
    struct RequestedTag {
        let key: String
        let entry: DicomDictionary.Entry
    }

    /// Validates the body with Orthanc 1.10's messages and codes (checked against stock Orthanc, see
    /// Tests/UnitTests/Fixtures/find). Where Orthanc answers 500 for a client's mistake (a `Query` that is not an
    /// object, a non-Boolean `Expand`, an unknown tag), Tessera answers 400 with the same `OrthancStatus`.
    init(_ body: JSONValue, caseSensitivePN: Bool) throws(TesseraError) {
        guard case .object(let members) = body else {
            throw TesseraError(.badRequest, details: "The body must contain a JSON object")
        }
        guard case .string(let levelName)? = members["Level"] else {
            throw TesseraError(.badRequest, details: "Field \"Level\" is missing, or should be a string")
        }
        let constraints: [String: JSONValue]
        switch members["Query"] {
        case .object(let object)?: constraints = object
        case .null?: constraints = [:]
        case nil: throw TesseraError(.badRequest, details: "Field \"Query\" is missing, or should be a JSON object")
        default: throw TesseraError(.badRequest, details: "Field \"Query\" should be a JSON object")
        }
        let level = try Self.level(levelName)
        // Orthanc 1.12.5's options (ApiVersion 26) change what is answered: refused rather than ignored.
        for name in ["OrderBy", "ParentPatient", "ParentStudy", "ParentSeries", "MetadataQuery", "ResponseContent"]
        where members[name] != nil {
            throw TesseraError(.badRequest, details: "\"\(name)\" is an option of Orthanc 1.12.5 (ApiVersion 26); "
                               + "Tessera implements ApiVersion \(TesseraVersion.orthancAPI)")
        }
        var caseSensitive = caseSensitivePN
        if let value = members["CaseSensitive"] {
            guard case .bool(let flag) = value else {
                throw TesseraError(.badRequest, details: "Field \"CaseSensitive\" should be a Boolean")
            }
            caseSensitive = flag
        }
        var builder = FindQueryBuilder(level: level)
        builder.page(since: try Self.count(members["Since"], name: "Since") ?? 0,
                     limit: try Self.count(members["Limit"], name: "Limit").flatMap { $0 == 0 ? nil : $0 })
        for (name, value) in constraints.sorted(by: { $0.key < $1.key }) {
            guard case .string(let text) = value else {
                throw TesseraError(.badRequest, details: "Tag \"\(name)\" should be associated with a string")
            }
            let entry = try Self.entry(name)
            guard let constraint = try TagConstraint.parse(tag: entry.tag, vr: entry.vr, value: text, caseSensitive: caseSensitive) else {
                continue
            }
            builder.add(constraint, vr: entry.vr)
        }
        let (labels, labelsConstraint) = try Self.labels(members)
        builder.labels(labels, labelsConstraint)
        let query = builder.query
        let fileConstraints = builder.fileConstraints
        self.query = query
        self.fileConstraints = fileConstraints
        switch members["Expand"] {
        case nil, .null?: expand = false
        case .bool(let flag)?: expand = flag
        case .number(let number)?: expand = number != 0
        default: throw TesseraError(.badRequest, details: "Field \"Expand\" should be a Boolean")
        }
        if try Self.flag(members, "Short") {
            format = .short
        } else if try Self.flag(members, "Full") {
            format = .full
        } else {
            format = .human
        }
        var requested: [RequestedTag] = []
        if let value = members["RequestedTags"] {
            guard case .array(let names) = value else {
                throw TesseraError(.badRequest, details: "Field \"RequestedTags\" should be an array of tag names")
            }
            for name in names {
                guard let key = name.stringValue else {
                    throw TesseraError(.badRequest, details: "Field \"RequestedTags\" should be an array of tag names")
                }
                requested.append(RequestedTag(key: key, entry: try Self.entry(key)))
            }
        }
        requestedTags = requested
    }

    private static func flag(_ members: [String: JSONValue], _ name: String) throws(TesseraError) -> Bool {
        guard let value = members[name] else { return false }
        guard case .bool(let flag) = value else {
            throw TesseraError(.badFileFormat, details: "Boolean value expected in field: \(name)")
        }
        return flag
    }

    /// Orthanc's `StringToResourceType`: any case, singular or plural.
    static func level(_ name: String) throws(TesseraError) -> ResourceLevel {
        switch name.lowercased() {
        case "patient", "patients": return .patient
        case "study", "studies": return .study
        case "series": return .series
        case "instance", "instances", "image", "images": return .instance
        default: throw TesseraError(.parameterOutOfRange, details: "Unknown resource type: \(name)")
        }
    }

    /// A tag by keyword or `gggg,eeee`.
    static func entry(_ name: String) throws(TesseraError) -> DicomDictionary.Entry {
        guard let entry = DicomDictionary.lookup(name.count == 8 && name.allSatisfy(\.isHexDigit)
                                                 ? "\(name.prefix(4)),\(name.suffix(4))" : name) else {
            throw TesseraError(.unknownDicomTag, details: "Unknown DICOM tag: \"\(name)\"")
        }
        return entry
    }

    private static func count(_ value: JSONValue?, name: String) throws(TesseraError) -> Int? {
        guard let value else { return nil }
        guard case .number(let number) = value, let integer = Int(exactly: number) else {
            throw TesseraError(.badRequest, details: "Field \"\(name)\" should be an integer")
        }
        guard integer >= 0 else {
            throw TesseraError(.parameterOutOfRange, details: "Field \"\(name)\" should be a positive integer")
        }
        return integer
    }

    private static func labels(_ members: [String: JSONValue]) throws(TesseraError) -> ([String], FindQuery.LabelsConstraint) {
        var labels: [String] = []
        if let value = members["Labels"] {
            guard case .array(let items) = value else {
                throw TesseraError(.badRequest, details: "Field \"Labels\" must be an array of strings")
            }
            for item in items {
                guard let label = item.stringValue else {
                    throw TesseraError(.badRequest, details: "Field \"Labels\" must be an array of strings")
                }
                try LabelName.validate(label)
                labels.append(label)
            }
        }
        guard let value = members["LabelsConstraint"] else { return (labels, .all) }
        guard let name = value.stringValue, let constraint = FindQuery.LabelsConstraint(rawValue: name) else {
            throw TesseraError(.parameterOutOfRange, details: "Field \"LabelsConstraint\" must be All, Any or None")
        }
        return (labels, constraint)
    }
}
