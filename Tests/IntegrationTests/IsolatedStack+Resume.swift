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

    /// The set-up both resumption tests share: a 300-instance study (3 series) uploaded, a worker named `first`
    /// started on `firstWorkerPort`, the job `route(study)` with `body(study)` submitted asynchronously, then resumed on
    /// another worker (``resumeOnAnotherWorker(job:metricsPort:)``). The ended job, the study and the instance count.
    func killMidway(route: (String) -> String, body: (String) -> [String: Any], firstWorkerPort: Int,
                    secondWorkerPort: Int) async throws -> (job: [String: Any], study: String, count: Int) {
        let count = 300
        let set = try await TestDicomSet.make(environment, count: count, seed: TestDicomSet.freshSeed(), patients: 1, studies: 1,
                                              series: 3, size: 16)
        #expect(try await set.upload(to: api).allSatisfy { $0 == 200 })
        let study = try #require(set.entries.first?.ParentStudy)
        try await startWorker("first", metricsPort: firstWorkerPort)
        var request = body(study)
        request["Asynchronous"] = true
        let submitted = try #require(try await api.post(route(study), json: request).json() as? [String: String])
        let job = try await resumeOnAnotherWorker(job: try #require(submitted["ID"]), metricsPort: secondWorkerPort)
        return (job, study, count)
    }
}

