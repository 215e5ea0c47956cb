import Foundation
import Synchronization

/// This process's part of Orthanc's `/tools/metrics-prometheus` metrics, under Orthanc's names and meanings (each
/// the largest value over the last 10 s, in milliseconds). Recorded where the work happens (ingest, the REST API, the
/// query/retrieve SCP); rendered by ServiceKit's `OrthancMetricsExposition`.
public enum OrthancMetrics {
    /// `orthanc_store_dicom_duration_ms`: storing one instance, whatever its source.
    public static let storeDicomDuration = WindowedMaximum()
    /// `orthanc_rest_api_duration_ms`: answering one REST request.
    public static let restAPIDuration = WindowedMaximum()
    /// `orthanc_find_scp_duration_ms`, `orthanc_move_scp_duration_ms`, `orthanc_get_scp_duration_ms`.
    public static let findSCPDuration = WindowedMaximum()
    public static let moveSCPDuration = WindowedMaximum()
    public static let getSCPDuration = WindowedMaximum()
    /// `orthanc_rest_api_active_requests`: REST requests in progress in this process.
    public static let restAPIActiveRequests = Atomic<Int>(0)
    /// When the process started (`orthanc_up_time_s`).
    public static let started = Date()

    /// The duration metrics with their Orthanc names.
    public static let durations: [(name: String, metric: WindowedMaximum)] = [
        ("orthanc_find_scp_duration_ms", findSCPDuration),
        ("orthanc_get_scp_duration_ms", getSCPDuration),
        ("orthanc_move_scp_duration_ms", moveSCPDuration),
        ("orthanc_rest_api_duration_ms", restAPIDuration),
        ("orthanc_store_dicom_duration_ms", storeDicomDuration),
    ]

    /// Milliseconds of a duration, for ``WindowedMaximum/record(_:now:)``.
    public static func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }
}
