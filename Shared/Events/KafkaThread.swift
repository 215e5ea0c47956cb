import Foundation

/// The one long-lived thread of a Kafka client. librdkafka's calls block (polls, commits, metadata and admin
/// requests), so they run here, one after the other, never on Swift's cooperative pool and never on a thread made
/// for one call. Between jobs the thread runs `idle` (a producer serves its delivery reports there); with no `idle`
/// it sleeps until a job comes.
final class KafkaThread: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []
    private var stopped = false
    private var finished: [CheckedContinuation<Void, Never>] = []
    private var exited = false
    private let idle: (@Sendable () -> Void)?

    /// Starts the thread. `idle` must return within a fraction of a second, or jobs wait for it.
    init(name: String, idle: (@Sendable () -> Void)? = nil) {
        self.idle = idle
        let thread = Thread { [self] in loop() }
        thread.name = name
        thread.start()
    }

    /// Runs `job` on the thread and returns its result. After ``stop()`` the job still runs, on the calling thread's
    /// behalf, so nothing waits forever.
    func run<Result: Sendable>(_ job: @escaping @Sendable () -> Result) async -> Result {
        await withCheckedContinuation { continuation in
            condition.lock()
            if exited {
                condition.unlock()
                continuation.resume(returning: job())
                return
            }
            jobs.append { continuation.resume(returning: job()) }
            condition.signal()
            condition.unlock()
        }
    }

    /// Runs a throwing `job` on the thread.
    func run<Result: Sendable, Failure: Error>(
        _ job: @escaping @Sendable () throws(Failure) -> Result
    ) async throws(Failure) -> Result {
        let outcome: Swift.Result<Result, Failure> = await run {
            do throws(Failure) {
                return .success(try job())
            } catch {
                return .failure(error)
            }
        }
        return try outcome.get()
    }

    /// Asks the thread to finish the jobs already queued and exit; returns once it has.
    func stop() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            condition.lock()
            if exited {
                condition.unlock()
                continuation.resume()
                return
            }
            stopped = true
            finished.append(continuation)
            condition.signal()
            condition.unlock()
        }
    }

    private func loop() {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopped && idle == nil {
                condition.wait()
            }
            if jobs.isEmpty && stopped {
                exited = true
                let waiting = finished
                finished = []
                condition.unlock()
                waiting.forEach { $0.resume() }
                return
            }
            let batch = jobs
            jobs = []
            condition.unlock()
            batch.forEach { $0() }
            if batch.isEmpty, let idle { idle() }
        }
    }
}
