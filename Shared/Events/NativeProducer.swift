import CRdKafka
import Dispatch
import Foundation
import Model
import Synchronization

/// One librdkafka producer handle, the messages it has in flight, and what its callbacks learnt about it. When it
/// is no longer sound, ``KafkaProducer`` replaces it and ``retire()``s it: its in-flight messages fail (and are sent
/// again on the new handle) and the handle is destroyed once nothing uses it. librdkafka handles are thread-safe;
/// the state is behind a mutex.
final class NativeProducer: @unchecked Sendable {
    let pointer: OpaquePointer
    let generation: Int
    private let signals: Signals
    private let state = Mutex(State())

    private struct State {
        /// Sends that are inside `rd_kafka_produceva` right now: the handle cannot be destroyed under them.
        var producing = 0
        var retired = false
        var destroyed = false
        var pending: [ObjectIdentifier: (box: DeliveryBox, started: ContinuousClock.Instant, deadline: ContinuousClock.Instant)] = [:]
        var staleReason: String?
        var replacementWaiters: [Once] = []
    }

    init(generation: Int, settings: [(String, String)]) throws(TesseraError) {
        let signals = Signals()
        let conf = try KafkaConfiguration(settings: settings).makeNative()
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(signals).toOpaque())
        rd_kafka_conf_set_dr_msg_cb(conf, deliveryReport)
        rd_kafka_conf_set_error_cb(conf, producerError)
        var error = [CChar](repeating: 0, count: 512)
        guard let created = rd_kafka_new(RD_KAFKA_PRODUCER, conf, &error, error.count) else {
            rd_kafka_conf_destroy(conf)
            throw TesseraError(.brokerUnavailable, message: "Cannot create the Kafka producer", details: KafkaConfiguration.text(error))
        }
        self.pointer = created
        self.generation = generation
        self.signals = signals
    }

    deinit {
        let destroyed = state.withLock { $0.destroyed }
        if !destroyed { rd_kafka_destroy(pointer) }
    }

    /// What became of one message.
    struct Report: Sendable {
        enum Outcome: Sendable {
            case acknowledged
            case acknowledgedWithoutOffset
            case failed(rd_kafka_resp_err_t, possiblyPersisted: Bool)
        }
        var outcome: Outcome
    }

    /// Queues a message and waits for its delivery report (or its failure when the handle is retired), at most
    /// `timeout`: a report that never comes ends as a failure the broker may have persisted. The wait is one
    /// continuation; the producer's service thread ends overdue ones (``expireOverdue()``, every poll round), so a send
    /// costs no timer task of its own.
    func produce(topic: String, key: String, payload: [UInt8], timeout: Duration) async -> Report {
        let box = DeliveryBox()
        let report = await withCheckedContinuation { (continuation: CheckedContinuation<Report, Never>) in
            box.attach(continuation)
            enqueue(box, topic: topic, key: key, payload: payload, timeout: timeout)
        }
        _ = state.withLock { $0.pending.removeValue(forKey: ObjectIdentifier(box)) }
        return report
    }

    /// ``produce(topic:key:payload:timeout:)`` blocking the calling thread (one of its own, never Swift's cooperative
    /// pool): the report wakes it straight from the delivery callback.
    func produceBlocking(topic: String, key: String, payload: [UInt8], timeout: Duration) -> Report {
        let box = DeliveryBox()
        enqueue(box, topic: topic, key: key, payload: payload, timeout: timeout)
        let report = box.wait()
        _ = state.withLock { $0.pending.removeValue(forKey: ObjectIdentifier(box)) }
        return report
    }

    /// Queues a message whose report goes to `box` (at once when it cannot be queued).
    private func enqueue(_ box: DeliveryBox, topic: String, key: String, payload: [UInt8], timeout: Duration) {
        let admitted: Bool = state.withLock { state in
            guard !state.retired else { return false }
            state.producing += 1
            let now = ContinuousClock.now
            state.pending[ObjectIdentifier(box)] = (box, now, now + timeout)
            return true
        }
        guard admitted else {
            box.resume(Report(outcome: .failed(RD_KAFKA_RESP_ERR__PURGE_QUEUE, possiblyPersisted: false)))
            return
        }
        let opaque = Unmanaged.passRetained(box).toOpaque()
        let code: rd_kafka_resp_err_t = topic.withCString { topicName in
            key.withCString { keyBytes in
                payload.withUnsafeBytes { payloadBytes in
                    var values = [rd_kafka_vu_t](repeating: rd_kafka_vu_t(), count: 5)
                    values[0].vtype = RD_KAFKA_VTYPE_TOPIC
                    values[0].u.cstr = topicName
                    values[1].vtype = RD_KAFKA_VTYPE_KEY
                    values[1].u.mem.ptr = UnsafeMutableRawPointer(mutating: keyBytes)
                    values[1].u.mem.size = strlen(keyBytes)
                    values[2].vtype = RD_KAFKA_VTYPE_VALUE
                    values[2].u.mem.ptr = UnsafeMutableRawPointer(mutating: payloadBytes.baseAddress)
                    values[2].u.mem.size = payloadBytes.count
                    values[3].vtype = RD_KAFKA_VTYPE_MSGFLAGS
                    values[3].u.i = 0x2  // RD_KAFKA_MSG_F_COPY
                    values[4].vtype = RD_KAFKA_VTYPE_OPAQUE
                    values[4].u.ptr = opaque
                    guard let error = rd_kafka_produceva(pointer, values, values.count) else { return RD_KAFKA_RESP_ERR_NO_ERROR }
                    let code = rd_kafka_error_code(error)
                    rd_kafka_error_destroy(error)
                    return code
                }
            }
        }
        state.withLock { $0.producing -= 1 }
        if code != RD_KAFKA_RESP_ERR_NO_ERROR {
            Unmanaged<DeliveryBox>.fromOpaque(opaque).release()
            box.resume(Report(outcome: .failed(code, possiblyPersisted: false)))
        }
    }

    /// Ends the sends whose report is overdue as failures the broker may have persisted (a late report then changes
    /// nothing). Called by the producer's service thread after each poll round.
    func expireOverdue() {
        let now = ContinuousClock.now
        let overdue: [DeliveryBox] = state.withLock { state in
            let expired = state.pending.filter { $0.value.deadline <= now }
            expired.keys.forEach { state.pending.removeValue(forKey: $0) }
            return expired.values.map(\.box)
        }
        overdue.forEach { $0.resume(Report(outcome: .failed(RD_KAFKA_RESP_ERR__TIMED_OUT, possiblyPersisted: true))) }
    }

    /// Ends every send still waiting (nobody will serve its report any more) as a failure the broker may have
    /// persisted, and refuses later ones (the producer is stopping).
    func abandonPending() {
        let waiting: [DeliveryBox] = state.withLock { state in
            state.retired = true
            defer { state.pending = [:] }
            return state.pending.values.map(\.box)
        }
        waiting.forEach { $0.resume(Report(outcome: .failed(RD_KAFKA_RESP_ERR__TIMED_OUT, possiblyPersisted: true))) }
    }

    /// Marks the handle for replacement.
    func markStale(_ reason: String) {
        state.withLock { state in
            if state.staleReason == nil { state.staleReason = reason }
        }
    }

    /// Why the handle must be replaced, if it must: a reason given by a send, or a fatal error.
    var staleReason: String? {
        if let reason = state.withLock({ $0.staleReason }) { return reason }
        return signals.staleReason
    }

    var isStale: Bool { staleReason != nil }

    /// Whether the service thread should check the handle before its next round.
    var needsAttention: Bool { isStale }

    /// Whether every broker went away at some point (a restart loses the idempotence session).
    var sawBrokersDown: Bool { signals.brokersDown.load(ordering: .relaxed) }

    /// How long the oldest message in flight has waited.
    var oldestPendingAge: Duration? {
        state.withLock { state in state.pending.values.map(\.started).min().map { ContinuousClock.now - $0 } }
    }

    var isReplaced: Bool { state.withLock { $0.retired } }

    /// ``waitUntilReplaced(before:)`` blocking the calling thread.
    func waitUntilReplacedBlocking(before deadline: ContinuousClock.Instant) {
        while !isReplaced && ContinuousClock.now < deadline {
            usleep(10_000)
        }
    }

    /// Waits until the handle is retired (a replacement exists), or until `deadline`.
    func waitUntilReplaced(before deadline: ContinuousClock.Instant) async {
        let once = Once()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            once.attach(continuation)
            let done: Bool = state.withLock { state in
                if state.retired { return true }
                state.replacementWaiters.append(once)
                return false
            }
            if done {
                once.resume()
            } else {
                Task {
                    try? await Task.sleep(until: deadline)
                    once.resume()
                }
            }
        }
    }

    /// Stops using the handle (on the producer's service thread): fails what is queued or in flight (those sends go
    /// again through the new handle), serves the last delivery reports, and destroys the handle.
    func retire() {
        let waiters: [Once] = state.withLock { state in
            state.retired = true
            defer { state.replacementWaiters = [] }
            return state.replacementWaiters
        }
        while state.withLock({ $0.producing }) > 0 { sched_yield() }
        _ = rd_kafka_purge(pointer, 0x1 | 0x2)  // RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT
        let deadline = ContinuousClock.now + .seconds(2)
        while rd_kafka_outq_len(pointer) > 0 && ContinuousClock.now < deadline {
            rd_kafka_poll(pointer, 50)
        }
        let unanswered: [DeliveryBox] = state.withLock { state in
            defer { state.pending = [:] }
            return state.pending.values.map(\.box)
        }
        for box in unanswered {
            box.resume(Report(outcome: .failed(RD_KAFKA_RESP_ERR__PURGE_INFLIGHT, possiblyPersisted: true)))
        }
        state.withLock { $0.destroyed = true }
        rd_kafka_destroy(pointer)
        waiters.forEach { $0.resume() }
    }

    /// What librdkafka's callbacks report about the handle.
    final class Signals: Sendable {
        let brokersDown = Atomic<Bool>(false)
        let fatal = Mutex<String?>(nil)

        var staleReason: String? {
            fatal.withLock { $0 }.map { "a fatal error: \($0)" }
        }
    }

    /// A send waiting for its delivery report; resumed exactly once (the first report wins), through its
    /// continuation or, for a blocked thread, its semaphore.
    final class DeliveryBox: Sendable {
        private let continuation = Mutex<CheckedContinuation<Report, Never>?>(nil)
        private let report = Mutex<Report?>(nil)
        private let arrived = DispatchSemaphore(value: 0)

        func attach(_ continuation: CheckedContinuation<Report, Never>) {
            self.continuation.withLock { $0 = continuation }
        }

        func resume(_ report: Report) {
            let first: Bool = self.report.withLock { stored in
                guard stored == nil else { return false }
                stored = report
                return true
            }
            guard first else { return }
            continuation.withLock { stored in
                defer { stored = nil }
                return stored
            }?.resume(returning: report)
            arrived.signal()
        }

        /// Blocks until ``resume(_:)``; the report.
        func wait() -> Report {
            arrived.wait()
            return report.withLock { $0 } ?? Report(outcome: .failed(RD_KAFKA_RESP_ERR__TIMED_OUT, possiblyPersisted: true))
        }
    }

    /// A wait resumed exactly once, by whichever comes first.
    final class Once: Sendable {
        private let continuation = Mutex<CheckedContinuation<Void, Never>?>(nil)

        func attach(_ continuation: CheckedContinuation<Void, Never>) {
            self.continuation.withLock { $0 = continuation }
        }

        func resume() {
            continuation.withLock { stored in
                defer { stored = nil }
                return stored
            }?.resume()
        }
    }
}

/// librdkafka calls this from `rd_kafka_poll` once per message, with the broker's verdict.
private func deliveryReport(_ handle: OpaquePointer?, _ message: UnsafePointer<rd_kafka_message_t>?, _ opaque: UnsafeMutableRawPointer?) {
    guard let message, let raw = message.pointee._private else { return }
    let box = Unmanaged<NativeProducer.DeliveryBox>.fromOpaque(raw).takeRetainedValue()
    let code = message.pointee.err
    let report: NativeProducer.Report
    if code == RD_KAFKA_RESP_ERR_NO_ERROR {
        report = .init(outcome: message.pointee.offset >= 0 ? .acknowledged : .acknowledgedWithoutOffset)
    } else {
        let status = rd_kafka_message_status(message)
        report = .init(outcome: .failed(code, possiblyPersisted: status != RD_KAFKA_MSG_STATUS_NOT_PERSISTED))
    }
    box.resume(report)
}

private func producerError(_ handle: OpaquePointer?, _ code: Int32, _ reason: UnsafePointer<CChar>?, _ opaque: UnsafeMutableRawPointer?) {
    guard let opaque else { return }
    let signals = Unmanaged<NativeProducer.Signals>.fromOpaque(opaque).takeUnretainedValue()
    let error = rd_kafka_resp_err_t(rawValue: code)
    if error == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN {
        signals.brokersDown.store(true, ordering: .relaxed)
    } else if error == RD_KAFKA_RESP_ERR__FATAL {
        var text = [CChar](repeating: 0, count: 512)
        let underlying = handle.map { rd_kafka_fatal_error($0, &text, text.count) } ?? error
        let description = KafkaConfiguration.errorText(underlying) + ": " + KafkaConfiguration.text(text)
        signals.fatal.withLock { $0 = description }
    }
}
