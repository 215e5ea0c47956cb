/// The resources a modified or anonymized instance was made from (Orthanc's `ModifiedFrom` or `AnonymizedFrom` metadata): the original instance, and the
/// original series, study and patient where the modification made new ones.
public struct ModificationOrigin: Sendable, Hashable, Codable {
    public var instance: String
    public var series: String?
    public var study: String?
    public var patient: String?
    /// An anonymization: the metadata is `AnonymizedFrom` rather than `ModifiedFrom`.
    public var anonymized: Bool?

    public init(instance: String, series: String? = nil, study: String? = nil, patient: String? = nil, anonymized: Bool = false) {
        self.instance = instance
        self.series = series
        self.study = study
        self.patient = patient
        self.anonymized = anonymized ? true : nil
    }
}
