import Index
import Model

/// How the jobs that store copies of instances end (modification, bulk modification, split, merge): the answer once
/// every copy is indexed, and Orthanc's trailing step — the originals deleted once every copy is stored. The cursor
/// says when a job reached that step, so that a job resumed there only deletes.
enum CopyCompletion {
    /// How long the answer waits for the copies to be indexed.
    static let indexingTimeout: Duration = .seconds(60)

    /// Whether the job's last run had stored every copy and was deleting the originals.
    static func isDeleting(_ job: JobRecord) -> Bool {
        job.cursor["Deleting"] == .bool(true)
    }

    /// Records the final content with the cursor of the deletion step, then waits until the copies this run stored
    /// are indexed; the reason to stop when the job was paused, canceled or lost meanwhile.
    static func finish(_ done: JSONValue, count: Int, stored: [PublicID], context: JobContext,
                       instances: InstanceQueries) async throws -> JobStore.StepAnswer? {
        let cursor: JSONValue = .object(["Position": .number(Double(count)), "Deleting": .bool(true)])
        if let reason = try await context.record(cursor: cursor, content: done, progress: 100) { return reason }
        try await waitUntilIndexed(stored, instances: instances)
        return nil
    }

    /// Waits until every instance of `ids` is indexed (those of an earlier run of the job were, long since).
    static func waitUntilIndexed(_ ids: [PublicID], instances: InstanceQueries) async throws {
        let deadline = ContinuousClock.now + indexingTimeout
        var waiting = ids[...]
        while !waiting.isEmpty {
            let batch = Array(waiting.prefix(InstanceSendLoop.batchSize))
            let found = try await instances.records(ids: batch)
            waiting = waiting.drop { found[$0] != nil }
            if waiting.isEmpty { return }
            guard ContinuousClock.now < deadline else {
                throw TesseraError(.timeout, details: "The new instances were stored but are not indexed yet")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}
