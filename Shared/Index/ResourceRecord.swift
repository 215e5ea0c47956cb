import Foundation
import Model

/// A patient, study or series as Orthanc's REST API shows it.
public struct ResourceRecord: Sendable, Hashable {
    /// The row key (index order).
    public var key: Int64
    public var level: ResourceLevel
    public var publicID: PublicID
    public var mainTags: [String: String]
    public var parent: PublicID?
    public var children: [PublicID]
    public var lastUpdate: Date
    public var isStable: Bool
    /// Studies: the patient's main tags (`PatientMainDicomTags`).
    public var patientMainTags: [String: String]?
    /// Series: `ExpectedNumberOfInstances` and the `IndexInSeries` of each instance, for `Status`.
    public var expectedInstances: Int?
    public var indicesInSeries: [Int?]
    /// Labels, sorted.
    public var labels: [String] = []

    /// Orthanc's series `Status`: `Unknown` without an expected count or with an instance of unknown index,
    /// `Inconsistent` with an index out of range or repeated, `Complete` when all are there, else `Missing`.
    public var seriesStatus: String {
        guard let expected = expectedInstances else { return "Unknown" }
        var seen = Set<Int>()
        for index in indicesInSeries {
            guard let index else { return "Unknown" }
            guard (1...expected).contains(index), seen.insert(index).inserted else { return "Inconsistent" }
        }
        return seen.count == expected ? "Complete" : "Missing"
    }
}
