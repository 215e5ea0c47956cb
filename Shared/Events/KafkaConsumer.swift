import CRdKafka
import Foundation
import Logging
import Model
import Synchronization

/// A consumer-group member that reads in batches and commits offsets only when told to (after processing), so a
/// crash re-delivers and never loses. Every librdkafka call runs on the consumer's one thread. Use it from one task;
/// ``close()`` it before dropping it.
///
/// After a broker restart the member rejoins by itself once the topic exists again (the producers re-create it). Two
/// traps are guarded against: offsets read before the group was re-formed are never committed (they would point into
/// the old topic and skip new events), and a member left without partitions for long (librdkafka may not notice a
/// topic re-created after it rejoined) reports ``needsReplacement``, as does a fatal error.
public final class KafkaConsumer: Sendable {
    private let handle: Handle
    private let thread: KafkaThread
    private let logger: Logger
    private let signals: Signals
    private let closed = Atomic<Bool>(false)

    /// Makes consumers of one group (the indexer makes a new one when the old one is beyond repair), and remembers
    /// the latest one's health for `/ready`.
    public final class Factory: Sendable {
        let bootstrapServers: String
        let properties: [String: String]
        let groupID: String
        let sessionTimeoutMilliseconds: Int
        let logger: Logger
        private let latest = Mutex<KafkaConsumer?>(nil)

        public init(bootstrapServers: String, groupID: String, sessionTimeoutMilliseconds: Int = 10_000,
                    properties: [String: String] = [:], logger: Logger) {
            self.bootstrapServers = bootstrapServers
            self.properties = properties
            self.groupID = groupID
            self.sessionTimeoutMilliseconds = sessionTimeoutMilliseconds
            self.logger = logger
        }

        public func make() throws(TesseraError) -> KafkaConsumer {
            let consumer = try KafkaConsumer(bootstrapServers: bootstrapServers, groupID: groupID,
                                             sessionTimeoutMilliseconds: sessionTimeoutMilliseconds, properties: properties,
                                             logger: logger)
            latest.withLock { $0 = consumer }
            return consumer
        }

        /// Whether the latest consumer reaches a broker.
        public var isHealthy: Bool {
            latest.withLock { $0 }.map { $0.isConnected && !$0.needsReplacement } ?? false
        }
    }

    /// Creates a member of `groupID`; it reads nothing until ``subscribe(_:)``.
    /// A group with no committed offset starts at the beginning of each partition. `properties` are more librdkafka
    /// settings (security: `Kafka.Properties`).
    public init(bootstrapServers: String, groupID: String, sessionTimeoutMilliseconds: Int = 10_000,
                properties: [String: String] = [:], logger: Logger) throws(TesseraError) {
        let signals = Signals()
        let configuration = KafkaConfiguration(settings: [
            ("bootstrap.servers", bootstrapServers),
            ("group.id", groupID),
            ("enable.auto.commit", "false"),
            ("enable.auto.offset.store", "false"),
            ("auto.offset.reset", "earliest"),
            ("session.timeout.ms", String(sessionTimeoutMilliseconds)),
            ("socket.timeout.ms", "10000"),
            ("client.id", "tessera"),
            ("topic.metadata.refresh.interval.ms", "5000"),
            ("allow.auto.create.topics", "false"),
            // Bounds indexing lag: the tansu broker answers a fetch only when this wait expires, not when data arrives.
            ("fetch.wait.max.ms", "20"),
        ] + properties.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        let conf = try configuration.makeNative()
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(signals).toOpaque())
        rd_kafka_conf_set_error_cb(conf, consumerError)
        rd_kafka_conf_set_rebalance_cb(conf, consumerRebalance)
        var error = [CChar](repeating: 0, count: 512)
        guard let created = rd_kafka_new(RD_KAFKA_CONSUMER, conf, &error, error.count) else {
            rd_kafka_conf_destroy(conf)
            throw TesseraError(.brokerUnavailable, message: "Cannot create the Kafka consumer", details: KafkaConfiguration.text(error))
        }
        rd_kafka_poll_set_consumer(created)
        self.handle = Handle(pointer: created)
        self.thread = KafkaThread(name: "kafka-consumer")
        self.logger = logger
        self.signals = signals
    }

    deinit {
        if !closed.load(ordering: .relaxed) {
            rd_kafka_consumer_close(handle.pointer)
        }
        rd_kafka_destroy(handle.pointer)
    }

    /// Whether the last contact with the brokers succeeded.
    public var isConnected: Bool { !signals.brokersDown.load(ordering: .relaxed) }

    /// Whether this consumer cannot go on: a fatal error, or no partition assigned for over a minute while subscribed
    /// after the brokers went away (a broker that restarted empty may have forgotten the group). A member that simply
    /// has no partition to own (more indexers than partitions) waits as a standby and is not replaced.
    public var needsReplacement: Bool {
        if signals.fatal.load(ordering: .relaxed) { return true }
        guard signals.subscribedAt.load(ordering: .relaxed) > 0, signals.assignedPartitions.load(ordering: .relaxed) == 0,
              signals.lostBrokers.load(ordering: .relaxed) else {
            return false
        }
        let since = max(signals.subscribedAt.load(ordering: .relaxed), signals.unassignedAt.load(ordering: .relaxed))
        return Signals.now() - since > 60_000
    }

    /// Creates the topic when it does not exist yet.
    public func ensureTopic(_ topic: String, partitions: Int, timeoutMilliseconds: Int32 = 10_000) async throws(TesseraError) {
        let handle = self.handle
        try await thread.run { () throws(TesseraError) in
            try KafkaTopics.ensure(handle: handle.pointer, topic: topic, partitions: partitions, timeoutMilliseconds: timeoutMilliseconds)
        }
    }

    /// Subscribes to `topic` (create it first: see ``ensureTopic(_:partitions:timeoutMilliseconds:)``).
    /// Partitions are assigned during the next polls; a group join takes a few seconds on the tansu broker.
    public func subscribe(_ topic: String) throws(TesseraError) {
        let subscription = rd_kafka_topic_partition_list_new(1)
        defer { rd_kafka_topic_partition_list_destroy(subscription) }
        rd_kafka_topic_partition_list_add(subscription, topic, -1)
        let code = rd_kafka_subscribe(handle.pointer, subscription)
        guard code == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw TesseraError(.brokerUnavailable, message: "Cannot subscribe to \(topic)", details: KafkaConfiguration.errorText(code))
        }
        signals.subscribedAt.store(Signals.now(), ordering: .relaxed)
    }

    /// Waits up to `timeoutMilliseconds` for a first message, then gathers more for up to `gatherMilliseconds` after
    /// it (0: only what is ready already), up to `maximumCount`; with `idleMilliseconds`, gathering also ends when no
    /// message came for that long (a lone event is not held for the whole gathering time). Returns an empty batch on
    /// timeout. Broker errors are logged; librdkafka reconnects by itself.
    public func poll(maximumCount: Int, timeoutMilliseconds: Int, gatherMilliseconds: Int = 0,
                     idleMilliseconds: Int? = nil) async -> [KafkaMessage] {
        let handle = self.handle
        let logger = self.logger
        let signals = self.signals
        return await thread.run {
            var batch: [KafkaMessage] = []
            var wait = Int32(clamping: timeoutMilliseconds)
            var gatherUntil: ContinuousClock.Instant?
            let generation = signals.generation.load(ordering: .relaxed)
            while batch.count < maximumCount {
                if var until = gatherUntil {
                    let now = ContinuousClock.now
                    if let idleMilliseconds { until = min(until, now + .milliseconds(idleMilliseconds)) }
                    let left = until - now
                    wait = left > .zero ? Int32(clamping: left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000) : 0
                }
                guard let message = rd_kafka_consumer_poll(handle.pointer, wait) else { break }
                defer { rd_kafka_message_destroy(message) }
                if gatherUntil == nil { gatherUntil = ContinuousClock.now + .milliseconds(gatherMilliseconds) }
                let code = message.pointee.err
                if code != RD_KAFKA_RESP_ERR_NO_ERROR {
                    if code != RD_KAFKA_RESP_ERR__PARTITION_EOF {
                        logger.warning("Kafka consumer error", metadata: ["error": "\(KafkaConfiguration.errorText(code))"])
                    }
                    continue
                }
                signals.brokersDown.store(false, ordering: .relaxed)
                let payload = message.pointee.payload.map {
                    Array(UnsafeRawBufferPointer(start: $0, count: message.pointee.len))
                } ?? []
                let key = message.pointee.key.map {
                    Array(UnsafeRawBufferPointer(start: $0, count: message.pointee.key_len))
                }
                let topic = message.pointee.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? ""
                batch.append(KafkaMessage(topic: topic, partition: message.pointee.partition,
                                          offset: message.pointee.offset, key: key, payload: payload,
                                          assignment: max(generation, signals.generation.load(ordering: .relaxed))))
            }
            if batch.isEmpty && signals.brokersDown.load(ordering: .relaxed) {
                // Nothing came: find out whether the brokers answer again.
                let probe = KafkaTopics.probe(handle: handle.pointer, topic: "", timeoutMilliseconds: 500)
                if probe.reachable { signals.brokersDown.store(false, ordering: .relaxed) }
            }
            return batch
        }
    }

    /// Commits, for every partition in `messages`, the offset after the last one (synchronously). Messages read before
    /// the partitions were last reassigned are not committed (returns false): after a broker restart their offsets
    /// belong to the old topic, and the next owner re-reads them anyway. Throws when the broker refused.
    @discardableResult
    public func commit(_ messages: [KafkaMessage]) async throws(TesseraError) -> Bool {
        let current = signals.generation.load(ordering: .relaxed)
        guard messages.allSatisfy({ $0.assignment == current }) else {
            logger.warning("Not committing offsets read before the partitions were reassigned")
            return false
        }
        var next: [String: [Int32: Int64]] = [:]
        for message in messages {
            next[message.topic, default: [:]][message.partition] = max(next[message.topic]?[message.partition] ?? 0, message.offset + 1)
        }
        guard !next.isEmpty else { return true }
        let offsets = next
        let handle = self.handle
        try await thread.run { () throws(TesseraError) in
            let list = rd_kafka_topic_partition_list_new(Int32(offsets.values.reduce(0) { $0 + $1.count }))
            defer { rd_kafka_topic_partition_list_destroy(list) }
            for (topic, partitions) in offsets {
                for (partition, offset) in partitions {
                    rd_kafka_topic_partition_list_add(list, topic, partition)?.pointee.offset = offset
                }
            }
            let code = rd_kafka_commit(handle.pointer, list, 0)
            guard code == RD_KAFKA_RESP_ERR_NO_ERROR else {
                throw TesseraError(.brokerUnavailable, message: "Cannot commit Kafka offsets", details: KafkaConfiguration.errorText(code))
            }
        }
        return true
    }

    /// Events not yet indexed in each partition this member owns: the partition's end (high watermark) minus the
    /// group's committed offset (or the partition's start when the group has none). Read from librdkafka's cached
    /// watermarks, asking the broker (bounded by `timeoutMilliseconds`) only when it has none yet. Empty when the
    /// member owns nothing or the broker does not answer.
    public func backlog(timeoutMilliseconds: Int32 = 1_000) async -> [Int32: Int64] {
        let handle = self.handle
        return await thread.run {
            var assignment: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
            guard rd_kafka_assignment(handle.pointer, &assignment) == RD_KAFKA_RESP_ERR_NO_ERROR, let assignment else { return [:] }
            defer { rd_kafka_topic_partition_list_destroy(assignment) }
            guard assignment.pointee.cnt > 0,
                  rd_kafka_committed(handle.pointer, assignment, Int32(timeoutMilliseconds)) == RD_KAFKA_RESP_ERR_NO_ERROR
            else { return [:] }
            var backlog: [Int32: Int64] = [:]
            for index in 0..<Int(assignment.pointee.cnt) {
                let entry = assignment.pointee.elems[index]
                var low: Int64 = -1
                var high: Int64 = -1
                if rd_kafka_get_watermark_offsets(handle.pointer, entry.topic, entry.partition, &low, &high)
                    != RD_KAFKA_RESP_ERR_NO_ERROR || high < 0 {
                    guard rd_kafka_query_watermark_offsets(handle.pointer, entry.topic, entry.partition, &low, &high,
                                                           Int32(timeoutMilliseconds)) == RD_KAFKA_RESP_ERR_NO_ERROR
                    else { continue }
                }
                let committed = entry.offset >= 0 ? entry.offset : max(low, 0)
                backlog[entry.partition] = max(0, high - committed)
            }
            return backlog
        }
    }

    /// Leaves the group cleanly (its partitions go to the other members at once) and ends the thread. Idempotent.
    public func close() async {
        guard !closed.exchange(true, ordering: .relaxed) else { return }
        let handle = self.handle
        await thread.run { _ = rd_kafka_consumer_close(handle.pointer) }
        await thread.stop()
    }
}

extension KafkaConsumer {
    /// A librdkafka handle; librdkafka is thread-safe.
    struct Handle: @unchecked Sendable {
        let pointer: OpaquePointer
    }

    /// What librdkafka's callbacks reported.
    final class Signals: Sendable {
        let brokersDown = Atomic<Bool>(false)
        /// Every broker went away since the last assignment of partitions (or since the start).
        let lostBrokers = Atomic<Bool>(false)
        let fatal = Atomic<Bool>(false)
        /// Bumped at every assignment, revocation or loss of partitions.
        let generation = Atomic<UInt64>(0)
        let assignedPartitions = Atomic<Int>(0)
        /// Milliseconds (monotonic) of the subscription and of the last time the member lost its partitions.
        let subscribedAt = Atomic<Int64>(0)
        let unassignedAt = Atomic<Int64>(0)

        static func now() -> Int64 {
            Int64(DispatchTime.now().uptimeNanoseconds / 1_000_000)
        }
    }
}

private func consumerError(_ handle: OpaquePointer?, _ code: Int32, _ reason: UnsafePointer<CChar>?, _ opaque: UnsafeMutableRawPointer?) {
    guard let opaque else { return }
    let signals = Unmanaged<KafkaConsumer.Signals>.fromOpaque(opaque).takeUnretainedValue()
    let error = rd_kafka_resp_err_t(rawValue: code)
    if error == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN {
        signals.brokersDown.store(true, ordering: .relaxed)
        signals.lostBrokers.store(true, ordering: .relaxed)
    } else if error == RD_KAFKA_RESP_ERR__FATAL {
        signals.fatal.store(true, ordering: .relaxed)
    }
}

/// Applies librdkafka's assignments (eager or cooperative) and counts them, so that offsets read before a reassignment
/// are never committed.
private func consumerRebalance(_ handle: OpaquePointer?, _ error: rd_kafka_resp_err_t,
                               _ partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?,
                               _ opaque: UnsafeMutableRawPointer?) {
    guard let handle else { return }
    let cooperative = String(cString: rd_kafka_rebalance_protocol(handle)) == "COOPERATIVE"
    switch error {
    case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
        if cooperative {
            if let failure = rd_kafka_incremental_assign(handle, partitions) { rd_kafka_error_destroy(failure) }
        } else {
            _ = rd_kafka_assign(handle, partitions)
        }
    case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
        if cooperative {
            if let failure = rd_kafka_incremental_unassign(handle, partitions) { rd_kafka_error_destroy(failure) }
        } else {
            _ = rd_kafka_assign(handle, nil)
        }
    default:
        _ = rd_kafka_assign(handle, nil)
    }
    guard let opaque else { return }
    let signals = Unmanaged<KafkaConsumer.Signals>.fromOpaque(opaque).takeUnretainedValue()
    signals.generation.wrappingAdd(1, ordering: .relaxed)
    var count = 0
    var assignment: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
    if rd_kafka_assignment(handle, &assignment) == RD_KAFKA_RESP_ERR_NO_ERROR, let assignment {
        count = Int(assignment.pointee.cnt)
        rd_kafka_topic_partition_list_destroy(assignment)
    }
    signals.assignedPartitions.store(count, ordering: .relaxed)
    if count == 0 {
        signals.unassignedAt.store(KafkaConsumer.Signals.now(), ordering: .relaxed)
    } else {
        signals.lostBrokers.store(false, ordering: .relaxed)
    }
}
