import Model

/// `GET /system`: the Orthanc API level Tessera implements, so clients enable the right features, and
/// Tessera's own version in `TesseraVersion`.
enum SystemJSON {
    /// The Orthanc release whose REST behaviour Tessera follows, and its `ApiVersion`.
    static let orthancVersion = TesseraVersion.orthanc
    static let apiVersion = TesseraVersion.orthancAPI
    static let tesseraVersion = TesseraVersion.tessera

    static func render(_ configuration: TesseraConfiguration) -> JSONValue {
        var mainTags: [String: JSONValue] = [:]
        for level in ResourceLevel.allCases {
            mainTags[level.rawValue] = .string(MainDicomTag.forLevel(level).map(\.tag.description).joined(separator: ";"))
        }
        let secure = !configuration.remoteAccessAllowed || configuration.isAuthenticationRequired
        return .object([
            "ApiVersion": .number(Double(apiVersion)),
            "CheckRevisions": .bool(configuration.checkRevisions),
            "DatabaseBackendPlugin": .null,
            "DatabaseServerIdentifier": .string(configuration.name),
            "DatabaseVersion": .number(6),
            "DicomAet": .string(configuration.dicomAet),
            "DicomPort": .number(Double(configuration.dicomPort)),
            "HasLabels": .bool(true),
            "HttpPort": .number(Double(configuration.httpPort)),
            "IngestTranscoding": .string(configuration.transcoding.ingestSyntax ?? ""),
            "IsHttpServerSecure": .bool(secure),
            "MainDicomTags": .object(mainTags),
            "MaximumPatientCount": .number(Double(configuration.storageLimits.maximumPatientCount)),
            "MaximumStorageMode": .string(configuration.storageLimits.mode.rawValue),
            "MaximumStorageSize": .number(Double(configuration.storageLimits.maximumStorageSize >> 20)),
            "Name": .string(configuration.name),
            "OverwriteInstances": .bool(configuration.overwriteInstances),
            "PluginsEnabled": .bool(false),
            "StorageAreaPlugin": .null,
            "StorageCompression": .bool(false),
            "TesseraVersion": .string(tesseraVersion),
            "UserMetadata": .object(configuration.userMetadata.mapValues { .number(Double($0)) }),
            "Version": .string(orthancVersion),
        ])
    }
}
