import Foundation
import DICOM
import Index
import Model

/// Orthanc 1.12's JSON renderings of resources (keys as Orthanc prints them; the encoder sorts them).
enum ResourceJSON {
    /// `GET /instances/{id}`.
    static func instance(_ record: InstanceRecord, labels: [String] = [], format: DicomJSONFormat = .human) -> JSONValue {
        .object([
            "FileSize": .number(Double(record.fileSize)),
            "FileUuid": .string(record.fileUUID.value),
            "ID": .string(record.publicID.value),
            "IndexInSeries": record.indexInSeries.map { .number(Double($0)) } ?? .null,
            "Labels": .array(labels.map(JSONValue.string)),
            "MainDicomTags": tags(record.mainTags, format: format),
            "ParentSeries": .string(record.parentSeries.value),
            "Type": .string(ResourceLevel.instance.rawValue),
        ])
    }

    /// `GET /patients/{id}`, `/studies/{id}`, `/series/{id}`.
    static func resource(_ record: ResourceRecord, labels: [String] = [], format: DicomJSONFormat = .human) -> JSONValue {
        var members: [String: JSONValue] = [
            "ID": .string(record.publicID.value),
            "IsStable": .bool(record.isStable),
            "Labels": .array(labels.map(JSONValue.string)),
            "LastUpdate": .string(OrthancDate.format(record.lastUpdate)),
            "MainDicomTags": tags(record.mainTags, format: format),
            "Type": .string(record.level.rawValue),
        ]
        let children = JSONValue.array(record.children.map { .string($0.value) })
        switch record.level {
        case .patient:
            members["Studies"] = children
        case .study:
            members["Series"] = children
            members["ParentPatient"] = record.parent.map { .string($0.value) } ?? .null
            members["PatientMainDicomTags"] = tags(record.patientMainTags ?? [:], format: format)
        case .series:
            members["Instances"] = children
            members["ParentStudy"] = record.parent.map { .string($0.value) } ?? .null
            members["ExpectedNumberOfInstances"] = record.expectedInstances.map { .number(Double($0)) } ?? .null
            members["Status"] = .string(record.seriesStatus)
        case .instance:
            break
        }
        return .object(members)
    }

    /// An entry of `/changes`.
    static func change(_ record: ChangeRecord) -> JSONValue {
        .object([
            "ChangeType": .string(record.type.name),
            "Date": .string(OrthancDate.format(record.date)),
            "ID": .string(record.publicID.value),
            "Path": .string("/\(record.level.collection)/\(record.publicID.value)"),
            "ResourceType": .string(record.level.rawValue),
            "Seq": .number(Double(record.seq)),
        ])
    }

    /// `/statistics` (whole index) or `/{level}/{id}/statistics`; byte counts are strings, as Orthanc prints them.
    static func statistics(_ statistics: ResourceStatistics, of level: ResourceLevel?) -> JSONValue {
        let size = String(statistics.diskSize)
        let megabytes = JSONValue.number(Double(statistics.diskSize / (1024 * 1024)))
        guard let level else {
            // Every attachment counts, as Orthanc's totals (DICOM files and user attachments of every level).
            let stored = statistics.diskSize + statistics.attachmentsSize
            let uncompressed = statistics.diskSize + statistics.attachmentsUncompressedSize
            return .object([
                "CountPatients": .number(Double(statistics.patients)), "CountStudies": .number(Double(statistics.studies)),
                "CountSeries": .number(Double(statistics.series)), "CountInstances": .number(Double(statistics.instances)),
                "TotalDiskSize": .string(String(stored)), "TotalDiskSizeMB": .number(Double(stored / (1024 * 1024))),
                "TotalUncompressedSize": .string(String(uncompressed)),
                "TotalUncompressedSizeMB": .number(Double(uncompressed / (1024 * 1024))),
            ])
        }
        var members: [String: JSONValue] = [
            "DiskSize": .string(size), "DiskSizeMB": megabytes,
            "UncompressedSize": .string(size), "UncompressedSizeMB": megabytes,
            "DicomDiskSize": .string(size), "DicomDiskSizeMB": megabytes,
            "DicomUncompressedSize": .string(size), "DicomUncompressedSizeMB": megabytes,
        ]
        if level == .patient { members["CountStudies"] = .number(Double(statistics.studies)) }
        if level == .patient || level == .study { members["CountSeries"] = .number(Double(statistics.series)) }
        if level != .instance { members["CountInstances"] = .number(Double(statistics.instances)) }
        return .object(members)
    }

    /// Metadata of an instance, as Orthanc records it at ingest (name → value).
    static func metadata(_ record: InstanceRecord) -> [String: String] {
        var values: [String: String] = [
            "ReceptionDate": OrthancDate.format(record.receptionDate),
            "RemoteAET": record.remoteAET ?? "",
            "Origin": record.origin,
        ]
        // Orthanc's IndexInSeries: InstanceNumber, else ImageIndex, as written (an empty or non-numeric value too).
        values["IndexInSeries"] = (record.mainTags["InstanceNumber"] ?? record.mainTags["ImageIndex"])
            .map { $0.trimmingCharacters(in: .whitespaces) } ?? record.indexInSeries.map(String.init)
        values["TransferSyntax"] = record.transferSyntaxUID
        values["SopClassUid"] = record.sopClassUID
        values["RemoteIP"] = record.remoteIP
        values["CalledAET"] = record.calledAET
        if record.origin == "RestApi" { values["HttpUsername"] = record.httpUsername ?? "" }
        return values
    }

    /// Main tags keyed by Orthanc's names (`human`), by `gggg,eeee` (`short`), or with name and type (`full`).
    static func tags(_ tags: [String: String], format: DicomJSONFormat = .human) -> JSONValue {
        switch format {
        case .human:
            return .object(tags.mapValues(JSONValue.string))
        case .short, .full:
            var members: [String: JSONValue] = [:]
            for (name, value) in tags {
                guard let tag = mainTagsByName[name] else { continue }
                members[tag.description] = entry(name: name, value: value, format: format)
            }
            return .object(members)
        }
    }

    /// `RequestedTags`: like main tags, for any tag.
    static func requested(_ values: [(FindRequest.RequestedTag, String)], format: DicomJSONFormat) -> JSONValue {
        var members: [String: JSONValue] = [:]
        for (tag, value) in values {
            let name = MainDicomTag.orthancName(of: tag.entry.tag) ?? DicomDictionary.name(of: tag.entry.tag) ?? tag.key
            members[format == .human ? name : tag.entry.tag.description] = entry(name: name, value: value, format: format)
        }
        return .object(members)
    }

    private static func entry(name: String, value: String, format: DicomJSONFormat) -> JSONValue {
        guard format == .full else { return .string(value) }
        return .object(["Name": .string(name), "Type": .string("String"), "Value": .string(value)])
    }

    private static let mainTagsByName: [String: DicomTag] = Dictionary(
        (MainDicomTag.patient + MainDicomTag.study + MainDicomTag.series + MainDicomTag.instance).map { ($0.name, $0.tag) },
        uniquingKeysWith: { first, _ in first })
}
