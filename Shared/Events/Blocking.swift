import Foundation
import Model

/// Runs blocking librdkafka calls on a dedicated thread, never on Swift's cooperative pool.
enum Blocking {
    /// Runs `body` on a new thread and returns its result.
    static func thread<Result: Sendable>(named name: String, _ body: @escaping @Sendable () -> Result) async -> Result {
        await withCheckedContinuation { continuation in
            let thread = Thread {
                continuation.resume(returning: body())
            }
            thread.name = name
            thread.start()
        }
    }

    /// Runs a throwing `body` on a new thread.
    static func run<Result: Sendable>(_ body: @escaping @Sendable () throws(TesseraError) -> Result) async throws(TesseraError) -> Result {
        let outcome: Swift.Result<Result, TesseraError> = await thread(named: "kafka-admin") {
            do throws(TesseraError) {
                return .success(try body())
            } catch {
                return .failure(error)
            }
        }
        return try outcome.get()
    }
}
