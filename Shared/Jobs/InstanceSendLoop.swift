import Index
import Logging
import Model

/// The loop every job that sends instances one by one shares (to a modality, to a peer): resume at the cursor, look
/// the instances up in batches, send each, and after each record the position of the next one, the instances that
/// failed and the bytes sent. A cursor is written while the next instance is sent, so a resumed job re-sends at most
/// the instance in flight when its worker died and the one before it. A failure fails the job, or is counted when the
/// job is permissive.
struct InstanceSendLoop {
    let instances: InstanceQueries
    let logger: Logger

    /// Files looked up in the index per query.
    static let batchSize = 500

    /// Where a job got to.
    struct Progress {
        var position: Int
        var failed: [String]
        var bytes: Int64

        init(cursor: JSONValue) {
            position = cursor["Position"]?.intValue ?? 0
            if case .array(let items)? = cursor["Failed"] { failed = items.compactMap(\.stringValue) } else { failed = [] }
            bytes = Int64(cursor["Size"]?.intValue ?? 0)
        }

        var cursor: JSONValue {
            .object(["Position": .number(Double(position)), "Failed": .array(failed.map(JSONValue.string)),
                     "Size": .number(Double(bytes))])
        }
    }

    /// Sends `ids` from the job's cursor. `send` gets an instance (nil when it was deleted since submission) with the
    /// records of the instances that follow it in its batch, and returns the bytes it sent; `content` renders the
    /// public content for a progress.
    func run(_ job: JobRecord, context: JobContext, ids: [PublicID], permissive: Bool,
             content: (Progress) -> JSONValue,
             send: (PublicID, InstanceRecord?, ArraySlice<InstanceRecord?>) async throws -> Int64) async throws -> JobResult {
        var progress = Progress(cursor: job.cursor)
        // The cursor of a step is written while the next instance is sent (one write in flight at most), so the
        // database round trip is not on every C-STORE's path.
        var pending: Task<JobStore.StepAnswer?, any Error>?
        func settle() async throws -> JobStore.StepAnswer? {
            defer { pending = nil }
            return try await pending?.value ?? nil
        }
        do {
            while progress.position < ids.count {
                let batch = Array(ids[progress.position..<min(ids.count, progress.position + Self.batchSize)])
                let found = try await instances.records(ids: batch)
                let records = batch.map { found[$0] }
                for (index, id) in batch.enumerated() {
                    if let reason = context.stopReason {
                        _ = try await settle()
                        return .stopped(reason)
                    }
                    do {
                        progress.bytes += try await send(id, records[index], records[(index + 1)...])
                    } catch let error as TesseraError {
                        guard permissive else { throw error }
                        logger.warning("Instance not sent (permissive job)", metadata: [
                            "job": "\(job.id)", "instance": "\(id.value)", "error": "\(error)"])
                        progress.failed.append(id.value)
                    }
                    progress.position += 1
                    if let reason = try await settle() { return .stopped(reason) }
                    let cursor = progress.cursor, rendered = content(progress), percent = progress.position * 100 / ids.count
                    pending = Task { try await context.record(cursor: cursor, content: rendered, progress: percent) }
                }
            }
            if let reason = try await settle() { return .stopped(reason) }
        } catch {
            _ = try? await settle()
            throw error
        }
        return .success(content(progress))
    }
}
