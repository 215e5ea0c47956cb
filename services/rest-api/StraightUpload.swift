import DICOM
import Foundation
import Hummingbird
import Jobs
import Model

/// The body of a `store-straight` call: a DICOM file that is sent on without being stored. It is checked here (400
/// when it is not DICOM), then written to an outbound file on the shared storage for the worker, which removes it
/// when its job ends.
struct StraightUpload {
    /// `{StorageDirectory}/outbound`.
    let folder: String
    let maximumSize: Int64

    struct File {
        let path: String
        let summary: InstanceSummary
    }

    func receive(_ request: Request) async throws -> File {
        var request = request
        let buffer = try await request.collectBody(upTo: Int(clamping: maximumSize))
        let bytes = Array(buffer: buffer)
        let summary: InstanceSummary
        do {
            summary = try InstanceSummary(file: try DicomFile(bytes: bytes))
        } catch {
            throw TesseraError(.badFileFormat, details: "Cannot parse an invalid DICOM file (size: \(bytes.count) bytes): \(error.details ?? error.message)")
        }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = "\(folder)/\(UUID().uuidString.lowercased()).dcm"
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
            throw TesseraError(.cannotWriteFile, details: "Cannot write the outbound file")
        }
        return File(path: path, summary: summary)
    }

    /// Submits the job that sends `file` and waits for its answer; the file is removed if the job could not be submitted.
    func send(_ file: File, type: String, request: JSONValue, submitter: JobSubmitter) async throws -> JSONValue {
        let id: String
        do {
            id = try await submitter.submit(.init(type: type, hidden: true, request: request.setting("Path", .string(file.path)),
                                                  content: .object([:])))
        } catch {
            try? FileManager.default.removeItem(atPath: file.path)
            throw error
        }
        return try await submitter.wait(id)
    }
}
