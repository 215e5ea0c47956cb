import Foundation
import Testing

extension IsolatedStack {
    /// Kills the worker named `first` with SIGKILL once job `id` has made some progress, starts a worker named
    /// `second` on `metricsPort`, and returns the job once it has ended (its JSON from `GET /jobs/{id}`).
    func resumeOnAnotherWorker(job id: String, metricsPort: Int) async throws -> [String: Any] {
        let deadline = ContinuousClock.now + .seconds(60)
        var progress = 0
        while progress < 5 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
            progress = try await api.json("/jobs/\(id)")["Progress"] as? Int ?? 0
        }
        _ = await stop("first", signal: SIGKILL)
        let atKill = try await api.json("/jobs/\(id)")["Progress"] as? Int ?? 0
        #expect(atKill > 0 && atKill < 100, "killed mid-way: \(atKill)%")
        try await startWorker("second", metricsPort: metricsPort)
        let deadlineDone = ContinuousClock.now + .seconds(120)
        var job: [String: Any] = [:]
        while ContinuousClock.now < deadlineDone {
            job = try await api.json("/jobs/\(id)")
            if ["Success", "Failure"].contains(job["State"] as? String ?? "") { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        return job
    }
}
