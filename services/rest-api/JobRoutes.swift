import Foundation
import Hummingbird
import Index
import Jobs
import Model
import Storage

/// `/jobs`: the cluster-wide jobs registry (Orthanc shows only the answering process's jobs; every replica here
/// shows and controls every job).
struct JobRoutes {
    let store: JobStore
    let outputs: JobOutputs
    let blobs: BlobStore

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
            let output = context.parameters.get("output") ?? ""
            // Archive and Media jobs have one output, "archive", once they succeeded (as Orthanc).
            guard output.lowercased() == "archive", job.type == "Archive" || job.type == "Media", job.state == .success else {
                throw TesseraError(.inexistentItem, details: "Job has no such output: \(output)")
            }
            let path = outputs.archive(job.id)
            guard let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int else {
                throw TesseraError(.inexistentFile, details: "The archive of job \(job.id) is gone")
            }
            let blobs = self.blobs
            return Response(status: .ok, headers: [.contentType: "application/zip", .contentDisposition: "filename=\"archive.zip\""],
                            body: ResponseBody(contentLength: size) { writer in
                                try await blobs.stream(path: path, named: "the archive of job \(job.id)") { try await writer.write($0) }
                                try await writer.finish(nil)
                            })
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
