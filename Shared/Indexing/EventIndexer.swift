import Events
import Foundation
import Index
import Logging
import Metrics
import Model
import ServiceLifecycle
import Storage

/// Consumes InstanceStored events in batches, writes each batch in one transaction, and only then commits the batch's
/// offsets: a crash re-delivers a batch, never loses one, and re-indexing is harmless (``InstanceWriter``).
///
/// Nothing stops a partition: an event that cannot be read, names a blob that is not on storage, or that the index
/// refuses deterministically (a value too long, a constraint) goes to the dead letters with its reason, and indexing
/// goes on; a batch that fails that way is split until the culprit is alone. Transient database failures (connection
/// lost, serialization failure, deadlock, statement timeout) are retried with a growing pause. The service waits for
/// PostgreSQL and the broker at start, and a consumer that the broker lost (a broker restarted empty) is replaced.
public struct EventIndexer: Service {
    let consumers: KafkaConsumer.Factory
    let database: IndexDatabase
    let writer: InstanceWriter
    let deadLetters: DeadLetterStore
    let blobs: BlobStore
    let broker: BrokerSettings
    let logger: Logger
    let batchSize: Int
    /// Deletes the oldest unprotected patients after a batch passed a storage limit ("Recycle" mode); nil: no limits.
    let recycler: PatientRecycler?

    private let metrics = IndexingMetrics()

    public init(consumers: KafkaConsumer.Factory, database: IndexDatabase, blobs: BlobStore, broker: BrokerSettings,
                batchSize: Int = 500, recycler: PatientRecycler? = nil, logger: Logger) {
        self.consumers = consumers
        self.database = database
        self.writer = InstanceWriter(database: database)
        self.deadLetters = DeadLetterStore(database: database)
        self.blobs = blobs
        self.broker = broker
        self.batchSize = batchSize
        self.recycler = recycler.flatMap { $0.isActive ? $0 : nil }
        self.logger = logger
    }

    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { try await database.migrateWhenAvailable() }
            if let recycler {
                // Limits lowered since the last start apply at once, as Orthanc's start-up recycling.
                do {
                    try await recycler.recycle()
                } catch {
                    logger.warning("Could not apply the storage limits at start-up", metadata: ["error": "\(error)"])
                }
            }
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                try await session()
            }
        } catch is CancellationError {
        } catch {
            logger.error("The indexer stopped consuming", metadata: ["error": "\(String(reflecting: error))"])
            throw error
        }
        logger.info("Indexer stopped")
    }

    private var stopping: Bool { Task.isShuttingDownGracefully || Task.isCancelled }

    /// How long a batch gathers events after its first one: bigger batches under load (fewer transactions, each a
    /// WAL flush; parents updated once per batch) for at most this much more indexing lag. Gathering ends sooner when
    /// no event came for ``idleMilliseconds`` (longer than the 20 ms the broker holds a fetch: events arrive in bursts).
    static let gatherMilliseconds = 100

    /// A pause in the events that ends a batch's gathering (a lone event waits this much, not the whole gathering).
    static let idleMilliseconds = 30

    /// How often the backlog per partition (`tessera_indexer_backlog_messages`) is measured.
    static let backlogInterval = Duration.seconds(5)

    /// One consumer's life: create it, make sure the topic exists, consume until shutdown or until the consumer must
    /// be replaced (the broker no longer knows it).
    private func session() async throws {
        let consumer = try consumers.make()
        var delay = Duration.milliseconds(500)
        while !stopping {
            do {
                try await consumer.ensureTopic(broker.topic, partitions: broker.partitions)
                try consumer.subscribe(broker.topic)
                break
            } catch {
                logger.warning("Cannot subscribe to the event topic yet; retrying",
                               metadata: ["error": "\(error)", "retryIn": "\(delay)"])
                do {
                    try await Self.pause(delay)
                } catch {
                    await consumer.close()
                    throw error
                }
                delay = min(delay * 2, .seconds(10))
            }
        }
        logger.info("Indexer consuming", metadata: ["topic": "\(broker.topic)", "group": "\(broker.consumerGroup)"])
        var backlogReportedAt = ContinuousClock.now
        var reportedPartitions: Set<Int32> = []
        while !stopping {
            if ContinuousClock.now - backlogReportedAt >= Self.backlogInterval {
                let backlog = await consumer.backlog()
                metrics.report(backlog: backlog, previously: reportedPartitions)
                reportedPartitions = Set(backlog.keys)
                backlogReportedAt = ContinuousClock.now
            }
            if consumer.needsReplacement {
                logger.warning("The broker lost this consumer; starting a new one")
                await consumer.close()
                return
            }
            let batch = await consumer.poll(maximumCount: batchSize, timeoutMilliseconds: 500,
                                            gatherMilliseconds: Self.gatherMilliseconds, idleMilliseconds: Self.idleMilliseconds)
            guard !batch.isEmpty else { continue }
            guard try await index(batch) else { break }
            do {
                try await consumer.commit(batch)
            } catch {
                // The rows are committed; the partition's next owner re-reads the batch and finds them indexed.
                logger.warning("Offsets not committed; the batch will be re-delivered", metadata: ["error": "\(error)"])
            }
        }
        await consumer.close()
    }

    /// Indexes a batch; returns false when shutdown interrupted it (its offsets are then left uncommitted).
    func index(_ batch: [KafkaMessage]) async throws -> Bool {
        var events: [(message: KafkaMessage, instance: StoredInstance)] = []
        var letters: [DeadLetterStore.Entry] = []
        events.reserveCapacity(batch.count)
        for message in batch {
            do {
                events.append((message, try InstanceStoredEvent.decode(message.payload).instance))
            } catch {
                let reason = error.message.contains("version") ? "unknown-event-version" : "undecodable-event"
                letters.append(Self.letter(for: message, reason: reason, details: error.details ?? error.message))
            }
        }
        guard try await retryingTransient({ try await record(letters) }) else { return false }
        let present = try await blobs.existing(events.map(\.instance.fileUUID))
        guard try await write(events[...], present: present) else { return false }
        if let recycler {
            // As Orthanc, the patients that just received instances are not the ones recycled.
            let keeping = Set(events.map(\.instance.summary.identifiers.patientPublicID))
            return try await retryingTransient { _ = try await recycler.recycle(keeping: keeping) }
        }
        return true
    }

    /// Writes events, splitting the batch when the index refuses it deterministically.
    private func write(_ events: ArraySlice<(message: KafkaMessage, instance: StoredInstance)>,
                       present: Set<BlobID>) async throws -> Bool {
        guard !events.isEmpty else { return true }
        var refusal: (any Error)?
        let written = try await retryingTransient {
            do {
                let start = ContinuousClock.now
                let results = try await writer.write(events.map(\.instance), blobExists: { present.contains($0) })
                metrics.batchDuration.recordNanoseconds((ContinuousClock.now - start).totalNanoseconds)
                var letters: [DeadLetterStore.Entry] = []
                for (event, result) in zip(events, results) {
                    metrics.count(result.outcome)
                    if result.outcome == .missingBlob {
                        letters.append(Self.letter(for: event.message, reason: "missing-blob",
                                                   details: "The event's blob \(event.instance.fileUUID) is not on the storage",
                                                   instance: event.instance))
                    }
                }
                try await record(letters)
            } catch is CancellationError {
                throw CancellationError()
            } catch where !DatabaseFailure(error).isTransient {
                refusal = error
            }
        }
        guard written else { return false }
        guard let refusal else { return true }
        if events.count == 1, let event = events.first {
            let failure = DatabaseFailure.tesseraError(for: refusal)
            logger.error("The index refused an event; it goes to the dead letters", metadata: [
                "partition": "\(event.message.partition)", "offset": "\(event.message.offset)",
                "error": "\(failure?.description ?? String(describing: refusal))"])
            let letter = Self.letter(for: event.message, reason: "rejected-by-index",
                                     details: failure?.description ?? String(describing: refusal), instance: event.instance)
            return try await retryingTransient { try await record([letter]) }
        }
        let middle = events.startIndex + events.count / 2
        guard try await write(events[..<middle], present: present) else { return false }
        return try await write(events[middle...], present: present)
    }

    private func record(_ letters: [DeadLetterStore.Entry]) async throws {
        guard !letters.isEmpty else { return }
        try await deadLetters.add(letters)
        for letter in letters {
            metrics.deadLetter(reason: letter.reason)
            logger.error("Dead-lettered an event", metadata: [
                "reason": "\(letter.reason)", "partition": "\(letter.partition ?? -1)", "offset": "\(letter.offset ?? -1)"])
        }
    }

    /// Runs `body` until it succeeds, pausing after transient database failures; returns false when shutdown came
    /// first. Other errors are thrown.
    private func retryingTransient(_ body: () async throws -> Void) async throws -> Bool {
        var delay = Duration.milliseconds(200)
        while true {
            do {
                try await body()
                return true
            } catch where DatabaseFailure(error).isTransient {
                logger.error("Cannot write to the index; retrying",
                             metadata: ["error": "\(String(reflecting: error))", "retryIn": "\(delay)"])
                if stopping { return false }
                do { try await Self.pause(delay) } catch { return false }
                delay = min(delay * 2, .seconds(10))
            }
        }
    }

    /// Sleeps, or throws `CancellationError` at once when graceful shutdown begins.
    static func pause(_ delay: Duration) async throws {
        try await cancelWhenGracefulShutdown { try await Task.sleep(for: delay) }
    }

    static func letter(for message: KafkaMessage, reason: String, details: String,
                       instance: StoredInstance? = nil) -> DeadLetterStore.Entry {
        DeadLetterStore.Entry(source: .event, reason: reason, details: details, topic: message.topic,
                              partition: message.partition, offset: message.offset, blob: instance?.fileUUID.value,
                              instance: instance?.summary.identifiers.instancePublicID.value, payload: message.payload)
    }
}
