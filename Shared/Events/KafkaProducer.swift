import CRdKafka
import Foundation
import Logging
import Model
import ServiceLifecycle

/// An idempotent Kafka producer (`acks=all`) whose ``send(topic:key:payload:)`` returns only once the broker
/// acknowledged the message, or throws when it could not within the delivery timeout.
///
/// Run it in a `ServiceGroup` before the services that send through it: its ``run()`` serves delivery reports
/// and, at graceful shutdown, flushes what is still in flight.
public final class KafkaProducer: Service, Sendable {
    private let handle: Handle
    private let deliveryTimeoutMilliseconds: Int
    private let logger: Logger
    private let stopping = StopFlag()

    /// Creates the producer. `bootstrapServers` is `host:port[,host:port]`.
    public init(bootstrapServers: String, deliveryTimeoutMilliseconds: Int = 30_000, logger: Logger) throws(TesseraError) {
        let configuration = KafkaConfiguration(settings: [
            ("bootstrap.servers", bootstrapServers),
            ("enable.idempotence", "true"),
            ("acks", "all"),
            ("message.timeout.ms", String(deliveryTimeoutMilliseconds)),
            ("socket.timeout.ms", "10000"),
            ("linger.ms", "0"),  // every send is awaited by a C-STORE: do not hold it back for batching
            ("client.id", "tessera"),
        ])
        let conf = try configuration.makeNative()
        rd_kafka_conf_set_dr_msg_cb(conf, deliveryReport)
        var error = [CChar](repeating: 0, count: 512)
        guard let created = rd_kafka_new(RD_KAFKA_PRODUCER, conf, &error, error.count) else {
            rd_kafka_conf_destroy(conf)
            throw TesseraError(.brokerUnavailable, message: "Cannot create the Kafka producer", details: KafkaConfiguration.text(error))
        }
        self.handle = Handle(pointer: created)
        self.deliveryTimeoutMilliseconds = deliveryTimeoutMilliseconds
        self.logger = logger
    }

    deinit {
        rd_kafka_destroy(handle.pointer)
    }

    /// Creates the topic when it does not exist yet.
    public func ensureTopic(_ topic: String, partitions: Int, timeoutMilliseconds: Int32 = 10_000) async throws(TesseraError) {
        let handle = self.handle
        try await Blocking.run { () throws(TesseraError) in
            try KafkaTopics.ensure(handle: handle.pointer, topic: topic, partitions: partitions, timeoutMilliseconds: timeoutMilliseconds)
        }
    }

    /// Sends one message and waits for the broker's acknowledgement (all in-sync replicas).
    public func send(topic: String, key: String, payload: [UInt8]) async throws(TesseraError) {
        let topicHandle = try self.topic(topic)
        let outcome: Result<Void, TesseraError> = await withCheckedContinuation { continuation in
            let box = Unmanaged.passRetained(DeliveryBox(continuation)).toOpaque()
            let status = payload.withUnsafeBytes { payloadBytes in
                key.withCString { keyBytes in
                    rd_kafka_produce(topicHandle, -1 /* RD_KAFKA_PARTITION_UA */, 0x2 /* RD_KAFKA_MSG_F_COPY */,
                                     UnsafeMutableRawPointer(mutating: payloadBytes.baseAddress), payloadBytes.count,
                                     keyBytes, strlen(keyBytes), box)
                }
            }
            if status != 0 {
                let reason = KafkaConfiguration.errorText(rd_kafka_last_error())
                Unmanaged<DeliveryBox>.fromOpaque(box).release()
                continuation.resume(returning: .failure(TesseraError(.brokerUnavailable, message: "Cannot queue an event", details: reason)))
            }
        }
        try outcome.get()
    }

    /// Whether a broker answers a metadata request within `timeoutMilliseconds` (for `/ready`).
    public func isBrokerReachable(timeoutMilliseconds: Int32 = 2_000) async -> Bool {
        let handle = self.handle
        return await Blocking.thread(named: "kafka-metadata") {
            var metadata: UnsafePointer<rd_kafka_metadata>?
            let code = rd_kafka_metadata(handle.pointer, 0, nil, &metadata, timeoutMilliseconds)
            if let metadata { rd_kafka_metadata_destroy(metadata) }
            return code == RD_KAFKA_RESP_ERR_NO_ERROR
        }
    }

    /// Serves delivery reports until graceful shutdown, then flushes in-flight messages (bounded by the delivery timeout).
    public func run() async throws {
        let handle = self.handle
        let stopping = self.stopping
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                await Blocking.thread(named: "kafka-producer-poll") {
                    while !stopping.isSet {
                        rd_kafka_poll(handle.pointer, 100)
                    }
                }
            } onCancel: {
                stopping.set()
            }
        } onGracefulShutdown: {
            stopping.set()
        }
        let timeout = Int32(clamping: deliveryTimeoutMilliseconds)
        let remaining: Int32 = await Blocking.thread(named: "kafka-producer-flush") {
            _ = rd_kafka_flush(handle.pointer, timeout)
            return rd_kafka_outq_len(handle.pointer)
        }
        if remaining > 0 {
            logger.error("Kafka producer stopped with undelivered events", metadata: ["events": "\(remaining)"])
        }
    }

    private func topic(_ name: String) throws(TesseraError) -> OpaquePointer {
        if let existing = topics.withLock({ $0[name] }) { return existing.pointer }
        guard let created = rd_kafka_topic_new(handle.pointer, name, nil) else {
            throw TesseraError(.brokerUnavailable, message: "Cannot open the Kafka topic", details: name)
        }
        return topics.withLock { table in
            if let existing = table[name] {
                rd_kafka_topic_destroy(created)
                return existing.pointer
            }
            table[name] = Handle(pointer: created)
            return created
        }
    }

    private let topics = LockedValue<[String: Handle]>([:])
}

extension KafkaProducer {
    /// A librdkafka handle; librdkafka is thread-safe.
    struct Handle: @unchecked Sendable {
        let pointer: OpaquePointer
    }

    final class DeliveryBox {
        let continuation: CheckedContinuation<Result<Void, TesseraError>, Never>
        init(_ continuation: CheckedContinuation<Result<Void, TesseraError>, Never>) {
            self.continuation = continuation
        }
    }
}

/// librdkafka calls this from `rd_kafka_poll` once per message, with the broker's verdict.
private func deliveryReport(_ handle: OpaquePointer?, _ message: UnsafePointer<rd_kafka_message_t>?, _ opaque: UnsafeMutableRawPointer?) {
    guard let message, let box = message.pointee._private else { return }
    let delivery = Unmanaged<KafkaProducer.DeliveryBox>.fromOpaque(box).takeRetainedValue()
    let code = message.pointee.err
    if code == RD_KAFKA_RESP_ERR_NO_ERROR {
        delivery.continuation.resume(returning: .success(()))
    } else {
        delivery.continuation.resume(returning: .failure(TesseraError(
            .brokerUnavailable, message: "The broker did not acknowledge an event", details: KafkaConfiguration.errorText(code))))
    }
}
