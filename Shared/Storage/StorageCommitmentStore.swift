import Foundation
import Model

/// Storage commitment transactions on the shared storage (`{StorageDirectory}/commitments/{uid}.json`): the worker
/// records a transaction as pending before its N-ACTION, the gateway completes it when the peer's report arrives,
/// and any API replica reads it. Written to a temporary name and renamed, so a reader never sees half a report. At
/// most `StorageCommitmentReportsSize` transactions are kept (the oldest go), as in Orthanc.
public struct StorageCommitmentStore: Sendable {
    public let folder: String
    let limit: Int

    /// - Parameter limit: `StorageCommitmentReportsSize` (0: no limit).
    public init(storageRoot: String, limit: Int = 100) {
        folder = storageRoot + "/commitments"
        self.limit = limit
    }

    /// The transaction `uid`, or nil when it is unknown (or not a UID).
    public func report(_ uid: String) -> StorageCommitmentReport? {
        guard StorageCommitmentReport.isValidUID(uid), let data = FileManager.default.contents(atPath: path(uid)),
              let json = try? JSONValue.parse(data) else { return nil }
        return StorageCommitmentReport(stored: json)
    }

    /// Records a transaction as pending (before its N-ACTION is sent), then drops the oldest beyond the limit.
    public func recordPending(_ uid: String, remoteAET: String) throws(TesseraError) {
        try write(StorageCommitmentReport(pending: uid, remoteAET: remoteAET))
        prune()
    }

    /// Completes a transaction with the peer's report; false (nothing written) when the transaction is unknown: a
    /// report nobody asked for is refused.
    public func complete(_ report: StorageCommitmentReport) throws(TesseraError) -> Bool {
        guard self.report(report.transactionUID) != nil else { return false }
        try write(report)
        return true
    }

    private func path(_ uid: String) -> String { folder + "/" + uid + ".json" }

    private func write(_ report: StorageCommitmentReport) throws(TesseraError) {
        guard StorageCommitmentReport.isValidUID(report.transactionUID) else {
            throw TesseraError(.parameterOutOfRange, details: "Not a transaction UID: \(report.transactionUID)")
        }
        let target = path(report.transactionUID)
        let temporary = target + ".\(UUID().uuidString).tmp"
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try Data(report.storedJSON.compactText.utf8).write(to: URL(fileURLWithPath: temporary))
            guard rename(temporary, target) == 0 else { throw CocoaError(.fileWriteUnknown) }
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw TesseraError(.cannotWriteFile, details: "Cannot record storage commitment transaction \(report.transactionUID): \(error)")
        }
    }

    private func prune() {
        guard limit > 0, let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
        let reports = names.filter { $0.hasSuffix(".json") }
        guard reports.count > limit else { return }
        let dated = reports.map { name -> (String, Date) in
            let modified = (try? FileManager.default.attributesOfItem(atPath: folder + "/" + name))?[.modificationDate] as? Date
            return (name, modified ?? .distantPast)
        }.sorted { $0.1 < $1.1 }
        for (name, _) in dated.prefix(reports.count - limit) {
            try? FileManager.default.removeItem(atPath: folder + "/" + name)
        }
    }
}
