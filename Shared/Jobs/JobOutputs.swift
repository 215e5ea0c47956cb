import Foundation
import Model

/// Where jobs leave their outputs (`/jobs/{id}/archive`): `{StorageDirectory}/outbound/jobs/{id}.zip` on the shared
/// storage, so that the worker that wrote it and the API replica that serves it need not be the same process. A file is
/// written under a `.partial` name and renamed once complete.
public struct JobOutputs: Sendable {
    public let folder: String

    public init(storageRoot: String) {
        folder = storageRoot + "/outbound/jobs"
    }

    /// The finished archive of job `id`.
    public func archive(_ id: String) -> String { folder + "/" + Self.fileName(id) }

    /// Where the archive of job `id` is written before it is complete.
    public func partialArchive(_ id: String) -> String { archive(id) + Self.partialSuffix }

    static let partialSuffix = ".partial"

    static func fileName(_ id: String) -> String {
        // Job IDs are UUIDs; anything else never names a file outside the folder.
        String(id.unicodeScalars.filter { CharacterSet.alphanumerics.contains($0) || $0 == "-" }) + ".zip"
    }

    /// The job each file of the folder belongs to, with whether it is complete.
    func files() -> [(job: String, path: String, complete: Bool)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.compactMap { name in
            let complete = name.hasSuffix(".zip")
            guard complete || name.hasSuffix(".zip" + Self.partialSuffix), let suffix = name.range(of: ".zip") else { return nil }
            return (String(name[..<suffix.lowerBound]), folder + "/" + name, complete)
        }
    }

    /// Creates the folder; `cannotWriteFile` when it cannot be.
    func prepare() throws(TesseraError) {
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw TesseraError(.cannotWriteFile, details: "Cannot create \(folder): \(error)")
        }
    }
}
