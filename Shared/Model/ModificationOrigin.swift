/// The resources a modified instance was made from (Orthanc's `ModifiedFrom` metadata): the original instance, and the
/// original series, study and patient where the modification made new ones.
public struct ModificationOrigin: Sendable, Hashable, Codable {
    public var instance: String
    public var series: String?
    public var study: String?
    public var patient: String?

    public init(instance: String, series: String? = nil, study: String? = nil, patient: String? = nil) {
        self.instance = instance
        self.series = series
        self.study = study
        self.patient = patient
    }
}
