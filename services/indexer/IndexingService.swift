import Events
import Index
import Logging
import Metrics
import Model
import ServiceLifecycle
import Storage

/// Consumes InstanceStored events in batches, writes each batch in one transaction, and only then commits the
/// batch's offsets: a crash re-delivers a batch, never loses one, and re-indexing is harmless.
struct IndexingService: Service {
    let consumer: KafkaConsumer
    let database: IndexDatabase
    let writer: InstanceWriter
    let blobs: BlobStore
    let broker: BrokerSettings
    let logger: Logger
    var batchSize = 500

    private let indexed = Counter(label: "tessera_indexer_instances_total", dimensions: [("result", "new")])
    private let replayed = Counter(label: "tessera_indexer_instances_total", dimensions: [("result", "already_indexed")])
    private let poison = Counter(label: "tessera_indexer_undecodable_events_total")
    private let batchDuration = Metrics.Timer(label: "tessera_indexer_batch_duration_seconds", preferredDisplayUnit: .seconds)

    func run() async throws {
        let stopping = ShutdownFlag()
        try await withGracefulShutdownHandler {
            try await database.migrate()
            try await consumer.ensureTopic(broker.topic, partitions: broker.partitions)
            try consumer.subscribe(broker.topic)
            logger.info("Indexer consuming", metadata: ["topic": "\(broker.topic)", "group": "\(broker.consumerGroup)"])
            while !stopping.isSet && !Task.isCancelled {
                let batch = await consumer.poll(maximumCount: batchSize, timeoutMilliseconds: 500)
                guard !batch.isEmpty else { continue }
                guard try await index(batch, stopping: stopping) else { break }
                do {
                    try await consumer.commit(batch)
                } catch {
                    // The rows are committed; the partition's next owner re-reads the batch and finds them indexed.
                    logger.warning("Offsets not committed; the batch will be re-delivered", metadata: ["error": "\(error)"])
                }
            }
        } onGracefulShutdown: {
            stopping.set()
        }
        await consumer.close()
        logger.info("Indexer stopped")
    }

    /// Writes a batch, retrying while the database is unavailable. Returns false when shutdown interrupted it
    /// (the offsets are then left uncommitted).
    private func index(_ batch: [KafkaMessage], stopping: ShutdownFlag) async throws -> Bool {
        var instances: [StoredInstance] = []
        instances.reserveCapacity(batch.count)
        for message in batch {
            do {
                instances.append(try InstanceStoredEvent.decode(message.payload).instance)
            } catch {
                // An event this version cannot read must not block its partition forever.
                poison.increment()
                logger.error("Skipping an undecodable event", metadata: [
                    "partition": "\(message.partition)", "offset": "\(message.offset)", "error": "\(error)"])
            }
        }
        var delay = Duration.milliseconds(200)
        while true {
            let start = ContinuousClock.now
            do {
                let results = try await writer.write(instances)
                let elapsed = ContinuousClock.now - start
                batchDuration.recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
                for result in results {
                    if result.isNew { indexed.increment() } else { replayed.increment() }
                    if let orphan = result.orphanedBlob {
                        try? await blobs.remove(orphan)
                    }
                }
                logger.debug("Indexed a batch", metadata: ["events": "\(batch.count)"])
                return true
            } catch {
                logger.error("Cannot write a batch to the index; retrying", metadata: ["error": "\(String(reflecting: error))"])
                if stopping.isSet { return false }
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(10))
            }
        }
    }
}
