import CRdKafka
import Foundation
import Logging
import Model

/// A consumer-group member that reads in batches and commits offsets only when told to (after processing),
/// so a crash re-delivers and never loses. Use it from one task; call ``close()`` before dropping it.
public final class KafkaConsumer: Sendable {
    private let handle: KafkaProducer.Handle
    private let logger: Logger
    private let closed = StopFlag()

    /// Creates a member of `groupID`; it reads nothing until ``subscribe(_:)``.
    /// A group with no committed offset starts at the beginning of each partition.
    public init(bootstrapServers: String, groupID: String, sessionTimeoutMilliseconds: Int = 10_000,
                logger: Logger) throws(TesseraError) {
        let configuration = KafkaConfiguration(settings: [
            ("bootstrap.servers", bootstrapServers),
            ("group.id", groupID),
            ("enable.auto.commit", "false"),
            ("enable.auto.offset.store", "false"),
            ("auto.offset.reset", "earliest"),
            ("session.timeout.ms", String(sessionTimeoutMilliseconds)),
            ("socket.timeout.ms", "10000"),
            ("client.id", "tessera"),
            ("topic.metadata.refresh.interval.ms", "10000"),
            // Bounds indexing lag: the tansu broker answers a fetch only when this wait expires, not when data arrives.
            ("fetch.wait.max.ms", "20"),
        ])
        let conf = try configuration.makeNative()
        var error = [CChar](repeating: 0, count: 512)
        guard let created = rd_kafka_new(RD_KAFKA_CONSUMER, conf, &error, error.count) else {
            rd_kafka_conf_destroy(conf)
            throw TesseraError(.brokerUnavailable, message: "Cannot create the Kafka consumer", details: KafkaConfiguration.text(error))
        }
        rd_kafka_poll_set_consumer(created)
        self.handle = KafkaProducer.Handle(pointer: created)
        self.logger = logger
    }

    deinit {
        if !closed.isSet {
            rd_kafka_consumer_close(handle.pointer)
        }
        rd_kafka_destroy(handle.pointer)
    }

    /// Creates the topic when it does not exist yet.
    public func ensureTopic(_ topic: String, partitions: Int, timeoutMilliseconds: Int32 = 10_000) async throws(TesseraError) {
        let handle = self.handle
        try await Blocking.run { () throws(TesseraError) in
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
    }

    /// Waits up to `timeoutMilliseconds` for a first message, then takes whatever else is ready, up to `maximumCount`.
    /// Returns an empty batch on timeout. Broker errors are logged; librdkafka reconnects by itself.
    public func poll(maximumCount: Int, timeoutMilliseconds: Int) async -> [KafkaMessage] {
        let handle = self.handle
        let logger = self.logger
        let closed = self.closed
        return await Blocking.thread(named: "kafka-consumer-poll") {
            var batch: [KafkaMessage] = []
            var wait = Int32(clamping: timeoutMilliseconds)
            while batch.count < maximumCount && !closed.isSet {
                guard let message = rd_kafka_consumer_poll(handle.pointer, wait) else { break }
                defer { rd_kafka_message_destroy(message) }
                wait = 0
                let code = message.pointee.err
                if code != RD_KAFKA_RESP_ERR_NO_ERROR {
                    if code != RD_KAFKA_RESP_ERR__PARTITION_EOF {
                        logger.warning("Kafka consumer error", metadata: ["error": "\(KafkaConfiguration.errorText(code))"])
                    }
                    continue
                }
                let payload = message.pointee.payload.map {
                    Array(UnsafeRawBufferPointer(start: $0, count: message.pointee.len))
                } ?? []
                let key = message.pointee.key.map {
                    Array(UnsafeRawBufferPointer(start: $0, count: message.pointee.key_len))
                }
                let topic = message.pointee.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? ""
                batch.append(KafkaMessage(topic: topic, partition: message.pointee.partition,
                                          offset: message.pointee.offset, key: key, payload: payload))
            }
            return batch
        }
    }

    /// Commits, for every partition in `messages`, the offset after the last one (synchronously).
    /// Throws when the broker refused (e.g. the partition was reassigned meanwhile: the next owner re-reads them).
    public func commit(_ messages: [KafkaMessage]) async throws(TesseraError) {
        var next: [String: [Int32: Int64]] = [:]
        for message in messages {
            next[message.topic, default: [:]][message.partition] = max(next[message.topic]?[message.partition] ?? 0, message.offset + 1)
        }
        guard !next.isEmpty else { return }
        let offsets = next
        let handle = self.handle
        try await Blocking.run { () throws(TesseraError) in
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
    }

    /// Leaves the group cleanly (its partitions go to the other members at once). Idempotent.
    public func close() async {
        guard !closed.isSet else { return }
        closed.set()
        let handle = self.handle
        await Blocking.thread(named: "kafka-consumer-close") {
            _ = rd_kafka_consumer_close(handle.pointer)
        }
    }
}
