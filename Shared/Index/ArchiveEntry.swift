import Model

/// An instance to put in an archive or on a medium, with what its folders are named after.
public struct ArchiveEntry: Sendable {
    public var instanceKey: Int64
    public var instance: PublicID
    public var fileUUID: BlobID
    public var fileSize: Int64
    public var series: PublicID
    public var study: PublicID
    public var patient: PublicID
    /// Main tags of the patient, the study and the series (Orthanc's names).
    public var patientTags: [String: String]
    public var studyTags: [String: String]
    public var seriesTags: [String: String]
}
