import CRdKafka
import Foundation
import Logging
import Model
import ServiceLifecycle
import Synchronization

/// A Kafka producer (`acks=all`) for one topic, whose ``send(key:payload:)`` returns only once the broker acknowledged
/// the message with an offset, and that recovers by itself when the broker restarts.
///
/// Idempotence is off on purpose: a broker that restarts empty (the tansu broker keeps topics in memory) forgets every
/// idempotent producer, and librdkafka then times every send out, or worse acknowledges sends as duplicates of another
/// producer's without writing them. Retries may duplicate an event, which is harmless (indexing is idempotent and
/// orders copies by their blob IDs, not by arrival). The producer re-creates the topic when the broker lost it, and
/// replaces its librdkafka handle when it is no longer sound (a fatal error, brokers gone and back, an acknowledgement
/// without an offset, a delivery stuck while the broker answers), sending again what the old handle had in flight.
/// ``canPublish`` tells `/ready` whether publishing works now.
///
/// Run it in a `ServiceGroup` before the services that send through it: its ``run()`` is the one thread that serves
/// delivery reports and checks the broker, and at graceful shutdown it flushes what is still in flight.
public final class KafkaProducer: Service, Sendable {
    private let bootstrapServers: String
    private let properties: [String: String]
    private let topic: String
    private let partitions: Int
    private let deliveryTimeout: Duration
    private let logger: Logger
    private let current: Mutex<NativeProducer?>
    private let generation = Atomic<Int>(0)
    private let publishable = Atomic<Bool>(false)
    private let stopping = Atomic<Bool>(false)

    /// Creates the producer (no broker is needed yet). `bootstrapServers` is `host:port[,host:port]`; `properties`
    /// are more librdkafka settings (security: `Kafka.Properties`).
    public init(bootstrapServers: String, topic: String, partitions: Int, deliveryTimeoutMilliseconds: Int = 30_000,
                properties: [String: String] = [:], logger: Logger) throws(TesseraError) {
        self.bootstrapServers = bootstrapServers
        self.properties = properties
        self.topic = topic
        self.partitions = partitions
        self.deliveryTimeout = .milliseconds(deliveryTimeoutMilliseconds)
        self.logger = logger
        self.current = Mutex(nil)
        let first = try makeNative()
        current.withLock { $0 = first }
    }

    /// Whether an event sent now would be acknowledged: a broker answers, the topic exists, and the handle is sound.
    public var canPublish: Bool { publishable.load(ordering: .relaxed) }

    /// The outcome of ``send(key:payload:)``.
    public enum Delivery: Sendable {
        case delivered
        /// Not acknowledged. `possiblyPersisted`: the broker may hold the event all the same (a timeout after sending).
        case failed(TesseraError, possiblyPersisted: Bool)
    }

    /// Sends one message and waits for the broker's acknowledgement (all in-sync replicas), within the delivery
    /// timeout, sending again on a new handle when the old one had to be replaced.
    public func send(key: String, payload: [UInt8]) async -> Delivery {
        var attempt = Attempt(deadline: .now + deliveryTimeout)
        while true {
            guard let native = current.withLock({ $0 }) else { return Attempt.stopped }
            let report = await native.produce(topic: topic, key: key, payload: payload, timeout: attempt.reportTimeout)
            if let delivery = attempt.settle(report, on: native, stopping: stopping.load(ordering: .relaxed)) { return delivery }
            // Let the service thread replace the handle (and re-create the topic), then send again.
            await native.waitUntilReplaced(before: attempt.deadline)
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    /// ``send(key:payload:)`` blocking the calling thread, for callers on a thread of their own (the C-STORE SCP's):
    /// the delivery report wakes it directly, without a hop through Swift's concurrency.
    public func sendBlocking(key: String, payload: [UInt8]) -> Delivery {
        var attempt = Attempt(deadline: .now + deliveryTimeout)
        while true {
            guard let native = current.withLock({ $0 }) else { return Attempt.stopped }
            let report = native.produceBlocking(topic: topic, key: key, payload: payload, timeout: attempt.reportTimeout)
            if let delivery = attempt.settle(report, on: native, stopping: stopping.load(ordering: .relaxed)) { return delivery }
            native.waitUntilReplacedBlocking(before: attempt.deadline)
            usleep(50_000)
        }
    }

    /// The rounds of one send: what a report means, and whether to send again.
    private struct Attempt {
        let deadline: ContinuousClock.Instant
        var possiblyPersisted = false
        var lastError = TesseraError(.brokerUnavailable, message: "The broker did not acknowledge an event")

        static let stopped = Delivery.failed(TesseraError(.brokerUnavailable, message: "The event producer is stopped"),
                                             possiblyPersisted: false)

        /// A little past the deadline: librdkafka's own message timeout normally reports first.
        var reportTimeout: Duration { max(.seconds(1), deadline - ContinuousClock.now + .seconds(2)) }

        /// The delivery to return after `report`, or nil to send again on a new handle (marking `native` stale).
        mutating func settle(_ report: NativeProducer.Report, on native: NativeProducer, stopping: Bool) -> Delivery? {
            switch report.outcome {
            case .acknowledged:
                return .delivered
            case .acknowledgedWithoutOffset:
                // The broker says it has the message but gives no offset: not written as far as we know.
                native.markStale("an acknowledgement without an offset")
                lastError = TesseraError(.brokerUnavailable, message: "The broker acknowledged an event it did not write")
                possiblyPersisted = true
            case .failed(let code, let persisted):
                lastError = TesseraError(.brokerUnavailable, message: "The broker did not acknowledge an event",
                                         details: KafkaConfiguration.errorText(code))
                possiblyPersisted = possiblyPersisted || persisted
                if !native.isReplaced { native.markStale("a failed delivery: \(KafkaConfiguration.errorText(code))") }
            }
            guard ContinuousClock.now + .milliseconds(200) < deadline, !stopping else {
                return .failed(lastError, possiblyPersisted: possiblyPersisted)
            }
            return nil
        }
    }

    /// Serves delivery reports, checks the broker every second (re-creating the topic and replacing the handle when
    /// needed) until graceful shutdown, then flushes in-flight messages (bounded by the delivery timeout).
    public func run() async throws {
        let thread = KafkaThread(name: "kafka-producer")
        let producer = self
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                await thread.run { producer.serve() }
            } onCancel: {
                producer.stopping.store(true, ordering: .relaxed)
            }
        } onGracefulShutdown: {
            producer.stopping.store(true, ordering: .relaxed)
        }
        let timeout = Int32(clamping: deliveryTimeout.totalNanoseconds / 1_000_000)
        let remaining: Int32 = await thread.run {
            guard let native = producer.current.withLock({ $0 }) else { return 0 }
            _ = rd_kafka_flush(native.pointer, timeout)
            native.abandonPending()
            return rd_kafka_outq_len(native.pointer)
        }
        // Nobody serves delivery reports from here on: later sends fail at once, as not persisted.
        current.withLock { $0 = nil }
        await thread.stop()
        publishable.store(false, ordering: .relaxed)
        if remaining > 0 {
            logger.error("Kafka producer stopped with undelivered events", metadata: ["events": "\(remaining)"])
        }
    }

    /// The service thread's loop: poll for delivery reports; once a second, check the broker and the handle.
    private func serve() {
        var lastCheck = ContinuousClock.now - .seconds(10)
        while !stopping.load(ordering: .relaxed) {
            guard let native = current.withLock({ $0 }) else { return }
            rd_kafka_poll(native.pointer, 100)
            native.expireOverdue()
            if ContinuousClock.now - lastCheck >= .seconds(1) || native.needsAttention {
                lastCheck = ContinuousClock.now
                check(native)
            }
        }
    }

    /// Looks at the broker through `native`; re-creates the topic when it is missing and replaces the handle when it
    /// is no longer sound.
    private func check(_ native: NativeProducer) {
        let probe = KafkaTopics.probe(handle: native.pointer, topic: topic, timeoutMilliseconds: 1_000)
        var replace: String? = native.staleReason
        if probe.reachable {
            if probe.partitions == nil {
                do {
                    try KafkaTopics.ensure(handle: native.pointer, topic: topic, partitions: partitions, timeoutMilliseconds: 5_000)
                    logger.warning("Created the event topic (the broker did not have it)", metadata: ["topic": "\(topic)"])
                } catch {
                    logger.warning("Cannot create the event topic yet", metadata: ["error": "\(error)"])
                }
            }
            if replace == nil, native.sawBrokersDown {
                replace = "the broker was unreachable and answers again (it may have restarted)"
            }
            if replace == nil, let age = native.oldestPendingAge, age > .seconds(10), probe.partitions != nil {
                replace = "a delivery pending for \(age) while the broker answers"
            }
        }
        if let reason = replace {
            self.replace(native, because: reason)
        }
        let sound = current.withLock { $0 }.map { !$0.isStale } ?? false
        publishable.store(probe.reachable && probe.partitions != nil && sound, ordering: .relaxed)
    }

    /// Replaces the handle: in-flight messages of the old one fail with a purge error and are sent again by ``send``.
    private func replace(_ old: NativeProducer, because reason: String) {
        let fresh: NativeProducer
        do {
            fresh = try makeNative()
        } catch {
            logger.error("Cannot create a new Kafka producer", metadata: ["error": "\(error)"])
            return
        }
        current.withLock { $0 = fresh }
        logger.warning("Replaced the Kafka producer", metadata: ["reason": "\(reason)", "generation": "\(fresh.generation)"])
        old.retire()
    }

    private func makeNative() throws(TesseraError) -> NativeProducer {
        let number = generation.wrappingAdd(1, ordering: .relaxed).newValue
        return try NativeProducer(generation: number, settings: [
            ("bootstrap.servers", bootstrapServers),
            ("enable.idempotence", "false"),
            ("acks", "all"),
            ("message.timeout.ms", String(deliveryTimeout.totalNanoseconds / 1_000_000)),
            ("socket.timeout.ms", "10000"),
            ("linger.ms", "0"),  // every send is awaited by a C-STORE: do not hold it back for batching
            ("client.id", "tessera"),
            // Never let a metadata request create the topic with the broker's default partition count: the producer
            // creates it itself, with the configured partitions.
            ("allow.auto.create.topics", "false"),
        ] + properties.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
    }
}
