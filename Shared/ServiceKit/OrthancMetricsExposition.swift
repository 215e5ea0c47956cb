import Foundation
import Model
import Synchronization

/// Orthanc's `/tools/metrics-prometheus` metrics: the cluster-wide gauges (counts, sizes, jobs, last change) and this
/// process's windowed maxima (``OrthancMetrics``), in Orthanc's own text format (for `/tools/metrics-prometheus`: no
/// TYPE lines, each value followed by the time it was set) or in Prometheus's with HELP and TYPE (operations `/metrics`).
public enum OrthancMetricsExposition {
    /// One Orthanc metric.
    public struct Sample: Sendable, Equatable {
        public var name: String
        public var value: Double
        /// When it was set (milliseconds since 1970).
        public var timestampMilliseconds: Int64
    }

    /// What each Orthanc metric means (HELP).
    public static let help: [String: String] = [
        "orthanc_count_patients": "Patients in the index (Orthanc).",
        "orthanc_count_studies": "Studies in the index (Orthanc).",
        "orthanc_count_series": "Series in the index (Orthanc).",
        "orthanc_count_instances": "Instances in the index (Orthanc).",
        "orthanc_disk_size_mb": "Size of the stored DICOM files in MiB (Orthanc).",
        "orthanc_uncompressed_size_mb": "Uncompressed size of the stored DICOM files in MiB; Tessera does not compress them (Orthanc).",
        "orthanc_jobs_pending": "Jobs Pending or Retry (Orthanc).",
        "orthanc_jobs_running": "Jobs Running or Paused (Orthanc).",
        "orthanc_jobs_success": "Successful jobs kept in the history (Orthanc).",
        "orthanc_jobs_failed": "Failed jobs kept in the history (Orthanc).",
        "orthanc_jobs_completed": "Jobs kept in the history, successful or failed (Orthanc).",
        "orthanc_last_change": "Sequence number of the last change (Last of /changes) (Orthanc).",
        "orthanc_up_time_s": "Seconds since this process started (Orthanc).",
        "orthanc_rest_api_active_requests": "REST requests in progress in this API process, this one included (Orthanc).",
        "orthanc_rest_api_duration_ms": "Longest REST request of this process over the last 10 s, in ms (Orthanc).",
        "orthanc_store_dicom_duration_ms": "Longest store of one instance by this process over the last 10 s, in ms (Orthanc).",
        "orthanc_find_scp_duration_ms": "Longest C-FIND answered by this gateway over the last 10 s, in ms (Orthanc).",
        "orthanc_move_scp_duration_ms": "Longest C-MOVE answered by this gateway over the last 10 s, in ms (Orthanc).",
        "orthanc_get_scp_duration_ms": "Longest C-GET answered by this gateway over the last 10 s, in ms (Orthanc).",
        "tessera_jobs": "Jobs in the cluster by state (Tessera; the same on every API replica).",
        "tessera_dead_letters_kept": "Dead letters kept in the index (Tessera; the same on every API replica).",
    ]

    /// The cluster-wide gauges of `statistics`, set `now`.
    public static func cluster(_ statistics: ClusterStatistics, now: Int64 = WindowedMaximum.now()) -> [Sample] {
        let megabytes = Double(statistics.diskSize) / 1_048_576
        let jobs = statistics.jobs
        let values: [(String, Double)] = [
            ("orthanc_count_instances", Double(statistics.instances)),
            ("orthanc_count_patients", Double(statistics.patients)),
            ("orthanc_count_series", Double(statistics.series)),
            ("orthanc_count_studies", Double(statistics.studies)),
            ("orthanc_disk_size_mb", megabytes),
            ("orthanc_jobs_completed", Double(jobs[.success, default: 0] + jobs[.failure, default: 0])),
            ("orthanc_jobs_failed", Double(jobs[.failure, default: 0])),
            ("orthanc_jobs_pending", Double(jobs[.pending, default: 0] + jobs[.retry, default: 0])),
            ("orthanc_jobs_running", Double(jobs[.running, default: 0] + jobs[.paused, default: 0])),
            ("orthanc_jobs_success", Double(jobs[.success, default: 0])),
            ("orthanc_last_change", Double(statistics.lastChange)),
            ("orthanc_uncompressed_size_mb", megabytes),
        ]
        return values.map { Sample(name: $0.0, value: $0.1, timestampMilliseconds: now) }
    }

    /// This process's samples: up time, REST requests in progress (API only), and every duration recorded so far.
    public static func process(includeREST: Bool, now: Int64 = WindowedMaximum.now()) -> [Sample] {
        var samples = [Sample(name: "orthanc_up_time_s", value: Date().timeIntervalSince(OrthancMetrics.started).rounded(.down),
                              timestampMilliseconds: now)]
        if includeREST {
            samples.append(Sample(name: "orthanc_rest_api_active_requests",
                                  value: Double(OrthancMetrics.restAPIActiveRequests.load(ordering: .relaxed)),
                                  timestampMilliseconds: now))
        }
        for (name, metric) in OrthancMetrics.durations {
            if let sample = metric.sample {
                samples.append(Sample(name: name, value: sample.value.rounded(), timestampMilliseconds: sample.timestampMilliseconds))
            }
        }
        return samples
    }

    /// Orthanc's format: `name value timestamp` lines sorted by name.
    public static func orthancText(_ samples: [Sample]) -> String {
        samples.sorted { $0.name < $1.name }.map { "\($0.name) \(number($0.value)) \($0.timestampMilliseconds)\n" }.joined()
    }

    /// Prometheus's format: HELP, TYPE gauge and the value, for each sample; `jobs` adds `tessera_jobs{state}`.
    public static func prometheusText(_ samples: [Sample], jobs: [JobState: Int]? = nil, deadLetters: Int? = nil) -> String {
        var text = samples.sorted { $0.name < $1.name }.map { sample in
            MetricsExposition.family(sample.name, type: "gauge", help: help[sample.name] ?? "Orthanc metric.",
                                     samples: [("", sample.value)])
        }.joined()
        if let jobs {
            text += MetricsExposition.family("tessera_jobs", type: "gauge", help: help["tessera_jobs"] ?? "",
                                             samples: JobState.allCases.map { ("state=\"\($0.rawValue)\"", Double(jobs[$0, default: 0])) })
        }
        if let deadLetters {
            text += MetricsExposition.family("tessera_dead_letters_kept", type: "gauge", help: help["tessera_dead_letters_kept"] ?? "",
                                             samples: [("", Double(deadLetters))])
        }
        return text
    }

    /// Integers without a fraction (as Orthanc 1.12 prints counts), others with up to 10 significant digits.
    static func number(_ value: Double) -> String {
        if value.rounded() == value, abs(value) < 1e15 { return String(Int64(value)) }
        return String(format: "%.10g", value)
    }
}
