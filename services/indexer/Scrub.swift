import Foundation
import Index
import Indexing
import Storage

/// `tessera-indexer scrub`: prints one line per file that no longer matches its stored MD5, then a summary.
enum Scrub {
    /// Returns whether something was found.
    static func run(database: IndexDatabase, blobs: BlobStore) async throws -> Bool {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await database.client.run() }
            defer { group.cancelAll() }
            let report = try await BlobScrubber(database: database, blobs: blobs).scrub { finding in
                print("\(finding.problem.rawValue) instance=\(finding.instance) blob=\(finding.blob) expected=\(finding.expected ?? "-") actual=\(finding.actual ?? "-")")
            }
            print("scrub: checked \(report.checked) files, \(report.findings.count) differ or are missing, \(report.withoutMD5) without a stored MD5 (not checked)")
            return !report.findings.isEmpty
        }
    }
}
