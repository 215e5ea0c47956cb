import Index
import Model

/// Orthanc 1.12's JSON renderings of resources.
enum ResourceJSON {
    /// `GET /instances/{id}`.
    static func instance(_ record: InstanceRecord) -> JSONValue {
        .object([
            "FileSize": .number(Double(record.fileSize)),
            "FileUuid": .string(record.fileUUID),
            "ID": .string(record.publicID.value),
            "IndexInSeries": record.indexInSeries.map { .number(Double($0)) } ?? .null,
            "Labels": .array([]),
            "MainDicomTags": .object(record.mainTags.mapValues(JSONValue.string)),
            "ParentSeries": .string(record.parentSeries.value),
            "Type": .string(ResourceLevel.instance.rawValue),
        ])
    }
}
