import CDICOM
import Foundation
import Model

/// Answers one C-FIND, C-MOVE or C-GET from Swift's concurrency: each call is carried out on the association's DCMTK
/// thread, which waits for the calls in order and sends the final response once the handler returns.
public final class QueryRetrieveResponder: Sendable {
    /// What sending a pending response gave.
    public enum Delivery: Sendable, Equatable {
        case sent
        /// The requester sent C-CANCEL: stop and finish with ``DimseStatus/cancel``.
        case canceled
        /// The association failed: nothing more reaches the requester.
        case broken
    }

    /// What a C-GET sub-operation gave.
    public enum SubOperation: Sendable, Equatable {
        /// The requester answered the C-STORE with this status.
        case answered(DimseStatus)
        /// Not sent (no accepted context, cannot transcode, unreadable file): the association is still usable.
        case notSent(String)
        /// The association failed.
        case broken(String)
    }

    let channel: QueryChannel

    init(channel: QueryChannel) {
        self.channel = channel
    }

    /// C-FIND: sends pending responses, one per answer (each attribute's value in UTF-8; an empty value sends an
    /// empty attribute), converted to `characterSet` (a SpecificCharacterSet value) when a value is not ASCII.
    public func answer(_ answers: [[(DicomTag, String)]], characterSet: String) async -> Delivery {
        guard !answers.isEmpty else { return .sent }
        return await withCheckedContinuation { done in
            if !channel.post(.answers(answers, characterSet, done)) { done.resume(returning: .broken) }
        }
    }

    /// C-MOVE, C-GET: a pending response with the sub-operation counts.
    public func pending(remaining: Int, completed: Int, failed: Int, warning: Int) async -> Delivery {
        await withCheckedContinuation { done in
            if !channel.post(.pending([remaining, completed, failed, warning].map { UInt16(clamping: $0) }, done)) {
                done.resume(returning: .broken)
            }
        }
    }

    /// C-GET: sends the stored file at `path` to the requester (C-STORE on its association).
    public func store(path: String) async -> SubOperation {
        await withCheckedContinuation { done in
            if !channel.post(.store(path, done)) { done.resume(returning: .broken("the association is closed")) }
        }
    }
}

/// The commands a responder hands to the association's thread, served in order until the final response.
final class QueryChannel: @unchecked Sendable {
    enum Command {
        case answers([[(DicomTag, String)]], String, CheckedContinuation<QueryRetrieveResponder.Delivery, Never>)
        case pending([UInt16], CheckedContinuation<QueryRetrieveResponder.Delivery, Never>)
        case store(String, CheckedContinuation<QueryRetrieveResponder.SubOperation, Never>)
        case finish(QueryRetrieveOutcome)
    }

    private let condition = NSCondition()
    private var queue: [Command] = []
    private var closed = false

    /// Queues a command; false once the channel is closed (the final response went, or the server gave up).
    func post(_ command: Command) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !closed else { return false }
        queue.append(command)
        condition.signal()
        return true
    }

    /// The server is stopping: the request ends with `outcome` unless it already finished.
    func abandon(_ outcome: QueryRetrieveOutcome) {
        _ = post(.finish(outcome))
    }

    /// Runs on the association's thread: carries the commands out until the final response, or until none came for
    /// `idle` (the final response is then `timedOut`).
    func serve(_ qr: OpaquePointer, idle: Duration, timedOut: QueryRetrieveOutcome) {
        while true {
            condition.lock()
            let deadline = Date(timeIntervalSinceNow: Double(idle.totalNanoseconds) / 1e9)
            while queue.isEmpty {
                if !condition.wait(until: deadline) && queue.isEmpty {
                    closed = true
                    condition.unlock()
                    Self.finish(qr, timedOut)
                    return
                }
            }
            let command = queue.removeFirst()
            if case .finish = command { closed = true }
            let rest: [Command] = closed ? queue : []
            if closed { queue = [] }
            condition.unlock()
            switch command {
            case .answers(let answers, let characterSet, let done):
                var delivery = QueryRetrieveResponder.Delivery.sent
                for answer in answers where delivery == .sent {
                    delivery = Self.send(qr, answer, characterSet: characterSet)
                }
                done.resume(returning: delivery)
            case .pending(let counts, let done):
                done.resume(returning: Self.delivery(cdicom_qr_pending(qr, counts[0], counts[1], counts[2], counts[3])))
            case .store(let path, let done):
                var status: UInt16 = 0
                var error = [CChar](repeating: 0, count: 512)
                let result = cdicom_qr_store(qr, path, &status, &error, error.count)
                let text = StoreSCP.text(error)
                switch Int(result) {
                case Int(CDICOM_SCU_ANSWERED): done.resume(returning: .answered(DimseStatus(rawValue: status)))
                case Int(CDICOM_SCU_NETWORK): done.resume(returning: .broken(text))
                default: done.resume(returning: .notSent(text))
                }
            case .finish(let outcome):
                Self.release(rest)
                Self.finish(qr, outcome)
                return
            }
        }
    }

    /// Commands queued after the final response: their callers learn that nothing more goes.
    private static func release(_ commands: [Command]) {
        for command in commands {
            switch command {
            case .answers(_, _, let done), .pending(_, let done): done.resume(returning: .broken)
            case .store(_, let done): done.resume(returning: .broken("the request is over"))
            case .finish: break
            }
        }
    }

    private static func send(_ qr: OpaquePointer, _ answer: [(DicomTag, String)], characterSet: String) -> QueryRetrieveResponder.Delivery {
        let tags = answer.map { UInt32($0.0.group) << 16 | UInt32($0.0.element) }
        return StoreSCU.withCStrings(answer.map(\.1)) { values in
            delivery(cdicom_qr_find_answer(qr, tags, values, answer.count, characterSet))
        }
    }

    private static func delivery(_ code: Int32) -> QueryRetrieveResponder.Delivery {
        switch Int(code) {
        case Int(CDICOM_QR_SENT): return .sent
        case Int(CDICOM_QR_CANCELED): return .canceled
        default: return .broken
        }
    }

    static func finish(_ qr: OpaquePointer, _ outcome: QueryRetrieveOutcome) {
        let failed = outcome.failedUIDs.joined(separator: "\\")
        _ = cdicom_qr_finish(qr, outcome.status.rawValue, UInt16(clamping: outcome.remaining),
                             UInt16(clamping: outcome.completed), UInt16(clamping: outcome.failed),
                             UInt16(clamping: outcome.warning), failed, outcome.errorComment)
    }
}
