import Foundation
import Index
import Model
import NIOCore
import ResourceArchive
import Storage

/// Runs `Archive` and `Media` jobs (`"Asynchronous": true` on `/{level}/{id}/archive|media` and
/// `/tools/create-archive|create-media(-extended)`): the ZIP is written to the job's output file on the shared storage
/// (``JobOutputs``), which any API replica serves as `/jobs/{id}/archive`. A job stopped or resumed elsewhere starts
/// its archive over.
public struct ArchiveJob: JobHandler {
    let instances: InstanceQueries
    let blobs: BlobStore
    let outputs: JobOutputs
    public let type: String

    /// A handler of `Archive` jobs, or of `Media` jobs (plain and extended media).
    /// DicomLossyTranscodingQuality, for lossy `Transcode` targets.
    let transcodingQuality: Int

    public init(media: Bool, instances: InstanceQueries, blobs: BlobStore, outputs: JobOutputs, transcodingQuality: Int = 90) {
        self.transcodingQuality = transcodingQuality
        self.instances = instances
        self.blobs = blobs
        self.outputs = outputs
        self.type = media ? "Media" : "Archive"
    }

    /// What the job archives: resources (level and public ID) and the kind of archive.
    public struct Request: Sendable {
        public var kind: ArchivePlan.Kind
        public var resources: [(ResourceLevel, PublicID)]
        public var description: String
        /// `Transcode`: the transfer syntax every file is re-encoded in.
        public var transcode: String?

        public init(kind: ArchivePlan.Kind, resources: [(ResourceLevel, PublicID)], description: String = "REST API",
                    transcode: String? = nil) {
            self.kind = kind
            self.resources = resources
            self.description = description
            self.transcode = transcode
        }

        /// Orthanc's job type for this kind.
        public var type: String { kind == .archive ? "Archive" : "Media" }

        public var json: JSONValue {
            var members: [String: JSONValue] = [
                "Kind": .string(kind.rawValue), "Description": .string(description),
                "Resources": .array(resources.map { .object(["Level": .string($0.0.rawValue), "ID": .string($0.1.value)]) }),
            ]
            if let transcode { members["Transcode"] = .string(transcode) }
            return .object(members)
        }

        init(json: JSONValue) throws(TesseraError) {
            guard let kind = json["Kind"]?.stringValue.flatMap(ArchivePlan.Kind.init(rawValue:)),
                  case .array(let items)? = json["Resources"] else {
                throw TesseraError(.internalError, details: "An archive job's request is incomplete")
            }
            var resources: [(ResourceLevel, PublicID)] = []
            for item in items {
                guard let level = item["Level"]?.stringValue.flatMap(ResourceLevel.init(rawValue:)),
                      let id = item["ID"]?.stringValue.flatMap(PublicID.init(validating:)) else {
                    throw TesseraError(.internalError, details: "An archive job names a resource badly")
                }
                resources.append((level, id))
            }
            self.init(kind: kind, resources: resources, description: json["Description"]?.stringValue ?? "REST API",
                      transcode: json["Transcode"]?.stringValue)
        }
    }

    /// Orthanc's public content (`ArchiveJob::GetPublicContent`).
    public static func content(_ request: Request, instances: Int = 0, uncompressed: UInt64 = 0, archive: UInt64 = 0) -> JSONValue {
        let megabyte: UInt64 = 1 << 20
        return .object([
            "Description": .string(request.description), "InstancesCount": .number(Double(instances)),
            "UncompressedSizeMB": .number(Double(uncompressed / megabyte)), "ArchiveSizeMB": .number(Double(archive / megabyte)),
            "UncompressedSize": .string(String(uncompressed)), "ArchiveSize": .string(String(archive)),
        ])
    }

    public func run(_ job: JobRecord, context: JobContext) async throws -> JobResult {
        let request = try Request(json: job.request)
        try outputs.prepare()
        let entries = try await instances.archiveEntries(request.resources)
        let transcoding = try request.transcode.map { syntax throws(TesseraError) in
            try ArchiveTranscoding(syntax: syntax, quality: transcodingQuality)
        }
        let plan = try await ArchivePlan.make(entries, kind: request.kind, blobs: blobs, transcoding: transcoding)
        defer { plan.cleanUp() }
        let partial = outputs.partialArchive(job.id)
        guard FileManager.default.createFile(atPath: partial, contents: nil),
              let handle = FileHandle(forWritingAtPath: partial) else {
            throw TesseraError(.cannotWriteFile, details: "Cannot create the archive of job \(job.id)")
        }
        var written: UInt64 = 0
        var recorded = ContinuousClock.now
        var stopped: JobStore.StepAnswer?
        do {
            try await plan.write(blobs: blobs) { chunk in
                // The write blocks: on the store's threads, never Swift's cooperative pool (other jobs run there).
                try await blobs.performBlocking { () throws(TesseraError) in
                    do {
                        try chunk.withUnsafeReadableBytes { try handle.write(contentsOf: $0) }
                    } catch {
                        throw TesseraError(.cannotWriteFile, details: "The archive of job \(job.id): \(error)")
                    }
                }
                written += UInt64(chunk.readableBytes)
                // Progress (and a pause or cancel) about once a second.
                guard stopped == nil, ContinuousClock.now - recorded > .seconds(1) else { return }
                recorded = ContinuousClock.now
                let progress = plan.uncompressedSize == 0 ? 0 : Int(min(99, written * 100 / plan.uncompressedSize))
                stopped = try await context.record(cursor: .object([:]), content: Self.content(request), progress: progress)
                if stopped != nil { throw CancellationError() }
            }
            try handle.synchronize()
            try handle.close()
        } catch {
            try? handle.close()
            try? FileManager.default.removeItem(atPath: partial)
            if let stopped { return .stopped(stopped) }
            throw error as? TesseraError ?? TesseraError(.cannotWriteFile, details: "The archive of job \(job.id): \(error)")
        }
        guard rename(partial, outputs.archive(job.id)) == 0 else {
            try? FileManager.default.removeItem(atPath: partial)
            throw TesseraError(.cannotWriteFile, details: "Cannot finish the archive of job \(job.id)")
        }
        return .success(Self.content(request, instances: plan.instanceCount, uncompressed: plan.instancesSize, archive: written))
    }
}
