/// What the index records of one instance, read from its DICOM dataset at ingest.
public struct InstanceSummary: Sendable, Hashable, Codable {
    public var identifiers: InstanceIdentifiers
    /// Main DICOM tags per level, keyed by Orthanc's tag names (values as Orthanc prints them: UTF-8, padding removed).
    public var patientTags: [String: String]
    public var studyTags: [String: String]
    public var seriesTags: [String: String]
    public var instanceTags: [String: String]
    public var sopClassUID: String?
    public var transferSyntaxUID: String?
    /// Orthanc's `IndexInSeries`: InstanceNumber, else ImageIndex.
    public var indexInSeries: Int?

    public init(identifiers: InstanceIdentifiers, patientTags: [String: String], studyTags: [String: String],
                seriesTags: [String: String], instanceTags: [String: String], sopClassUID: String?,
                transferSyntaxUID: String?, indexInSeries: Int?) {
        self.identifiers = identifiers
        self.patientTags = patientTags
        self.studyTags = studyTags
        self.seriesTags = seriesTags
        self.instanceTags = instanceTags
        self.sopClassUID = sopClassUID
        self.transferSyntaxUID = transferSyntaxUID
        self.indexInSeries = indexInSeries
    }
}
