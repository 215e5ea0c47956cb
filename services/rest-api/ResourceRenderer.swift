import DICOM
import Index
import Model
import Storage

/// Expanded resources as Orthanc prints them for lists, `/tools/find` and single resources: labels, main tags in
/// the requested format, and `RequestedTags` (main tags, counts computed from the index, other tags read from the
/// first instance file of the resource).
struct ResourceRenderer {
    let resources: ResourceQueries
    let instances: InstanceQueries
    let blobs: BlobStore

    /// Tags Orthanc computes rather than reads (`ModalitiesInStudy`, `NumberOfStudyRelatedSeries`, ...).
    static let computedTags: Set<String> = [
        "ModalitiesInStudy", "NumberOfPatientRelatedStudies", "NumberOfPatientRelatedSeries",
        "NumberOfPatientRelatedInstances", "NumberOfStudyRelatedSeries", "NumberOfStudyRelatedInstances",
        "NumberOfSeriesRelatedInstances", "SOPClassesInStudy", "InstanceAvailability",
    ]

    /// One resource by ID (one statement when no tags are requested); nil when it is not indexed.
    func render(_ level: ResourceLevel, id: PublicID, format: DicomJSONFormat = .human,
                requestedTags: [FindRequest.RequestedTag] = []) async throws -> JSONValue? {
        guard requestedTags.isEmpty else {
            guard let key = try await resources.key(of: id, at: level) else { return nil }
            return try await render(level, keys: [key], format: format, requestedTags: requestedTags).first
        }
        if level == .instance {
            return try await instances.instance(id).map { ResourceJSON.instance($0, labels: $0.labels, format: format) }
        }
        return try await resources.resource(level, id).map { ResourceJSON.resource($0, labels: $0.labels, format: format) }
    }

    /// Resources of `level` in the order of `keys`.
    func render(_ level: ResourceLevel, keys: [Int64], format: DicomJSONFormat = .human,
                requestedTags: [FindRequest.RequestedTag] = []) async throws -> [JSONValue] {
        // Each resource with the main tags it knows (a study also knows its patient's).
        var rendered: [(key: Int64, id: PublicID, json: JSONValue, tags: [String: String])] = []
        if level == .instance {
            for record in try await instances.records(keys: keys) {
                rendered.append((record.key, record.publicID,
                                 ResourceJSON.instance(record, labels: record.labels, format: format), record.mainTags))
            }
        } else {
            for record in try await resources.records(level, keys: keys) {
                rendered.append((record.key, record.publicID,
                                 ResourceJSON.resource(record, labels: record.labels, format: format),
                                 record.mainTags.merging(record.patientMainTags ?? [:]) { own, _ in own }))
            }
        }
        guard !requestedTags.isEmpty else { return rendered.map(\.json) }
        let files = try await instances.firstFiles(of: level, keys: keys)
        var answers: [JSONValue] = []
        for resource in rendered {
            let values = try await requested(requestedTags, level: level, id: resource.id, file: files[resource.key],
                                             mainTags: resource.tags)
            answers.append(resource.json.setting("RequestedTags", ResourceJSON.requested(values, format: format)))
        }
        return answers
    }

    /// Values of the requested tags of one resource: its main tags (and its patient's, for a study), computed
    /// counts, then the first instance file for the rest. Absent tags are left out.
    private func requested(_ tags: [FindRequest.RequestedTag], level: ResourceLevel, id: PublicID, file: BlobID?,
                           mainTags: [String: String]) async throws -> [(FindRequest.RequestedTag, String)] {
        var values: [(FindRequest.RequestedTag, String)] = []
        var fromFile: [FindRequest.RequestedTag] = []
        var statistics: ResourceStatistics?
        for tag in tags {
            let name = MainDicomTag.orthancName(of: tag.entry.tag) ?? tag.key
            if let value = mainTags[name] {
                values.append((tag, value))
            } else if Self.computedTags.contains(tag.key) {
                switch tag.key {
                case "ModalitiesInStudy":
                    if level == .study { values.append((tag, try await resources.modalitiesInStudy(id).joined(separator: "\\"))) }
                    continue
                case "SOPClassesInStudy":
                    if level == .study { values.append((tag, try await resources.sopClassesInStudy(id).joined(separator: "\\"))) }
                    continue
                case "InstanceAvailability":
                    // Every indexed instance is on line (Orthanc's constant answer).
                    if level == .instance { values.append((tag, "ONLINE")) }
                    continue
                default:
                    break
                }
                if statistics == nil { statistics = try await resources.statistics(level, id) }
                if let count = Self.count(tag.key, level: level, statistics) { values.append((tag, String(count))) }
            } else {
                fromFile.append(tag)
            }
        }
        guard !fromFile.isEmpty, let file else { return values }
        let wanted = fromFile.map { ($0.key, $0.entry.tag) }
        let read = try await blobs.withBlob(file) { path throws(TesseraError) in
            let dicom = try DicomFile(path: path, maxReadLength: 4096)
            let charset = DicomCharset(datasetOf: dicom)
            return wanted.compactMap { key, tag in dicom.dataset.text(tag, charset: charset).map { (key, $0) } }
        }
        let byKey = Dictionary(read, uniquingKeysWith: { first, _ in first })
        values += fromFile.compactMap { tag in byKey[tag.key].map { (tag, $0) } }
        return values
    }

    private static func count(_ name: String, level: ResourceLevel, _ statistics: ResourceStatistics?) -> Int? {
        guard let statistics else { return nil }
        switch (name, level) {
        case ("NumberOfPatientRelatedStudies", .patient): return statistics.studies
        case ("NumberOfPatientRelatedSeries", .patient): return statistics.series
        case ("NumberOfPatientRelatedInstances", .patient): return statistics.instances
        case ("NumberOfStudyRelatedSeries", .study): return statistics.series
        case ("NumberOfStudyRelatedInstances", .study): return statistics.instances
        case ("NumberOfSeriesRelatedInstances", .series): return statistics.instances
        default: return nil
        }
    }
}
