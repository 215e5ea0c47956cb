/// What every metric a Tessera service exposes means: the `# HELP` text of ``MetricsExposition``, and the reference
/// docs/operations.md lists. A metric missing here has no HELP line (the observability test fails on it).
public enum MetricCatalog {
    public static let help: [String: String] = [
        // HTTP (REST API; Hummingbird's metrics renamed by MetricNaming). Labels: route (template), method, status.
        "tessera_http_requests_total": "HTTP requests answered, by route template, method and status.",
        "tessera_http_request_errors_total": "HTTP requests that ended in an error, by route template, method and status.",
        "tessera_http_request_duration_seconds": "Time to answer an HTTP request, by route template, method and status.",
        "tessera_http_active_requests": "HTTP requests in progress, by method.",
        // DICOM (gateway)
        "tessera_dicom_associations_open": "DICOM associations open on this gateway.",
        "tessera_dicom_associations_total": "DICOM association requests, by result (accepted, refused by the access rules).",
        "tessera_dicom_refused_total": "DICOM associations and requests refused by the access rules, by request.",
        "tessera_dicom_requests_total": "C-FIND, C-MOVE and C-GET requests answered, by command and final status.",
        "tessera_dicom_request_duration_seconds": "Time to answer a C-FIND, C-MOVE or C-GET, by command.",
        // Ingest (gateway, REST uploads, C-GET in the worker)
        "tessera_ingest_instances_total": "Instances received, by result: stored (durable and acknowledged), rejected (refused input), failed (storage or broker error).",
        "tessera_ingest_duration_seconds": "Time from a received instance to its durable acknowledgement (blob written and synced, event acknowledged by the broker).",
        // Indexer
        "tessera_indexer_instances_total": "Events indexed, by outcome.",
        "tessera_indexer_batch_duration_seconds": "Time to index one batch of events.",
        "tessera_indexer_dead_letters_total": "Events set aside as dead letters by this indexer, by reason.",
        "tessera_indexer_backlog_messages": "Events in the broker not yet indexed, per partition this indexer owns (0 for partitions it gave away): sum over indexers.",
        "tessera_dead_letters": "Dead letters kept in the index (events and blobs that could not be indexed; GET /tessera/dead-letters).",
        "tessera_reconciler_blobs_total": "Blobs the reconciler found without an index row, by what it did: indexed, removed, not_dicom.",
        "tessera_reconciler_incoming_files_removed_total": "Stale incoming files (transfers that never completed) the reconciler removed.",
        // Jobs (worker)
        "tessera_jobs_total": "Jobs this worker finished, by type and final state.",
        "tessera_job_duration_seconds": "Time a job ran on this worker, by type.",
        // Edge receiver (datashare mode)
        "tessera_datashare_instances_total": "Instances received into a datashare.",
        "tessera_datashare_bytes_total": "Bytes received into a datashare.",
        "tessera_datashare_refused_total": "Associations or instances a datashare refused (budget, calling AE title).",
        "tessera_datashare_aborted_associations_total": "Associations aborted before a datashare was selected.",
    ]
}
