import Index
import Logging
import Model
import Storage

/// Reads every indexed instance's blob and compares its MD5 with the one stored at ingest: what bit rot, a bad disk
/// or a hand-edited file changed shows up here (Orthanc's `verify-md5`, for the whole store).
public struct BlobScrubber: Sendable {
    let catalog: BlobCatalog
    let blobs: BlobStore

    public init(database: IndexDatabase, blobs: BlobStore) {
        self.catalog = BlobCatalog(database: database)
        self.blobs = blobs
    }

    /// One instance whose file is not what was stored.
    public struct Finding: Sendable, Hashable {
        public enum Problem: String, Sendable, Hashable {
            /// The bytes no longer have the MD5 stored at ingest.
            case mismatch
            /// The file is gone.
            case missing
        }

        public var instance: PublicID
        public var blob: BlobID
        public var problem: Problem
        public var expected: String?
        public var actual: String?
    }

    /// What a scrub found.
    public struct Report: Sendable {
        public var checked = 0
        /// Instances without a stored MD5 (indexed before MD5s were stored, not filled in yet): not checked.
        public var withoutMD5 = 0
        public var findings: [Finding] = []
    }

    /// The MD5 of a blob's bytes; nil when the file is gone.
    private func md5(of blob: BlobID) async throws -> String? {
        do {
            return try await blobs.md5(of: blob)
        } catch {
            if error.code == .inexistentFile { return nil }
            throw error
        }
    }

    /// Checks every instance, calling `progress` with each finding as it is found.
    public func scrub(progress: (Finding) -> Void = { _ in }) async throws -> Report {
        var report = Report()
        var after: Int64 = 0
        while true {
            let page = try await catalog.instanceFiles(after: after, limit: 500)
            guard let last = page.last else { return report }
            after = last.key
            for file in page {
                guard let expected = file.md5 else {
                    report.withoutMD5 += 1
                    continue
                }
                report.checked += 1
                let actual = try await md5(of: file.blob)
                let finding: Finding? = switch actual {
                case nil: Finding(instance: file.publicID, blob: file.blob, problem: .missing, expected: expected, actual: nil)
                case expected?: nil
                case let other?: Finding(instance: file.publicID, blob: file.blob, problem: .mismatch, expected: expected, actual: other)
                }
                if let finding {
                    report.findings.append(finding)
                    progress(finding)
                }
            }
        }
    }
}
