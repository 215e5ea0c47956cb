import Index
import Metrics

/// The indexer's metrics: instances by outcome, dead letters by reason, batch durations.
struct IndexingMetrics: Sendable {
    let batchDuration = Metrics.Timer(label: "tessera_indexer_batch_duration_seconds", preferredDisplayUnit: .seconds)

    func count(_ outcome: IndexedInstance.Outcome) {
        Counter(label: "tessera_indexer_instances_total", dimensions: [("result", outcome.rawValue)]).increment()
    }

    /// Sets `tessera_indexer_backlog_messages` for the partitions this member owns now, and zero for those it
    /// reported before and no longer owns (another member reports them), so a sum over replicas counts each once.
    func report(backlog: [Int32: Int64], previously: Set<Int32>) {
        for partition in previously.subtracting(backlog.keys) {
            Gauge(label: "tessera_indexer_backlog_messages", dimensions: [("partition", String(partition))]).record(0)
        }
        for (partition, count) in backlog {
            Gauge(label: "tessera_indexer_backlog_messages", dimensions: [("partition", String(partition))]).record(count)
        }
    }

    func deadLetter(reason: String) {
        Counter(label: "tessera_indexer_dead_letters_total", dimensions: [("reason", reason)]).increment()
    }
}
