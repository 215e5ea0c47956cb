/// Cluster-wide figures read from the index at scrape time, for Orthanc's `/tools/metrics-prometheus` gauges and
/// Tessera's `tessera_jobs`: the same on every API replica (dashboards take their `max()`).
public struct ClusterStatistics: Sendable, Equatable {
    public var patients: Int
    public var studies: Int
    public var series: Int
    public var instances: Int
    /// Bytes of the stored DICOM files.
    public var diskSize: Int64
    /// Jobs by state (every state present, zero included).
    public var jobs: [JobState: Int]
    /// The last change's sequence number (`Last` of `/changes`).
    public var lastChange: Int64
    /// Dead letters kept.
    public var deadLetters: Int

    public init(patients: Int, studies: Int, series: Int, instances: Int, diskSize: Int64, jobs: [JobState: Int],
                lastChange: Int64, deadLetters: Int) {
        self.patients = patients
        self.studies = studies
        self.series = series
        self.instances = instances
        self.diskSize = diskSize
        self.jobs = jobs
        self.lastChange = lastChange
        self.deadLetters = deadLetters
    }
}
