import Index
import Metrics

/// The indexer's metrics: instances by outcome, dead letters by reason, batch durations.
struct IndexingMetrics: Sendable {
    let batchDuration = Metrics.Timer(label: "tessera_indexer_batch_duration_seconds", preferredDisplayUnit: .seconds)

    func count(_ outcome: IndexedInstance.Outcome) {
        Counter(label: "tessera_indexer_instances_total", dimensions: [("result", outcome.rawValue)]).increment()
    }

    func deadLetter(reason: String) {
        Counter(label: "tessera_indexer_dead_letters_total", dimensions: [("reason", reason)]).increment()
    }
}
