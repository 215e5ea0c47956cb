import Foundation
import Hummingbird
import Index
import Jobs
import Model

/// `/jobs`: the cluster-wide jobs registry (Orthanc shows only the answering process's jobs; every replica here
/// shows and controls every job).
struct JobRoutes {
    let store: JobStore

    func add(to router: Router<APIRequestContext>) {
        router.get("/jobs") { request, _ in
            let jobs = try await store.list()
            if request.uri.queryParameters["expand"] != nil {
                let now = Date()
                return OrthancJSON.response(.array(jobs.map { JobJSON.render($0, now: now) }))
            }
            return OrthancJSON.response(.array(jobs.map { .string($0.id) }))
        }
        router.get("/jobs/{id}") { _, context in
            OrthancJSON.response(JobJSON.render(try await job(context)))
        }
        router.delete("/jobs/{id}") { _, context in
            try answer(try await store.delete(try id(context)), context)
        }
        router.post("/jobs/{id}/cancel") { _, context in try answer(try await store.cancel(try id(context)), context) }
        router.post("/jobs/{id}/pause") { _, context in try answer(try await store.pause(try id(context)), context) }
        router.post("/jobs/{id}/resume") { _, context in try answer(try await store.resume(try id(context)), context) }
        router.post("/jobs/{id}/resubmit") { _, context in try answer(try await store.resubmit(try id(context)), context) }
        router.get("/jobs/{id}/{output}") { _, context -> Response in
            let job = try await job(context)
            throw TesseraError(.inexistentItem, details: "Job \(job.id) has no output named \(context.parameters.get("output") ?? "")")
        }
    }

    private func id(_ context: APIRequestContext) throws -> String {
        guard let id = context.parameters.get("id") else { throw TesseraError(.uriSyntax) }
        return id
    }

    private func job(_ context: APIRequestContext) async throws -> JobRecord {
        let id = try id(context)
        guard let job = try await store.job(id), !job.hidden else {
            throw TesseraError(.inexistentItem, details: "Unknown job: \(id)")
        }
        return job
    }

    private func answer(_ outcome: JobStore.ControlOutcome, _ context: APIRequestContext) throws -> Response {
        switch outcome {
        case .done: return OrthancJSON.response(.object([:]))
        case .unknownJob: throw TesseraError(.inexistentItem, details: "Unknown job: \(context.parameters.get("id") ?? "")")
        case .refused(let reason): throw TesseraError(.badSequenceOfCalls, details: reason)
        }
    }
}
