import Archive
import DICOM
import Foundation
import Jobs
import Model
import Storage
import Testing

@Suite("Storage commitment transactions, job outputs and gzip")
struct StorageCommitmentTests {
    @Test("Transaction UIDs are 2.25. and a 128-bit decimal, valid file names, never twice the same")
    func transactionUIDs() {
        let uids = (0..<200).map { _ in StorageCommitmentReport.newTransactionUID() }
        #expect(Set(uids).count == uids.count)
        for uid in uids {
            #expect(uid.hasPrefix("2.25.") && StorageCommitmentReport.isValidUID(uid) && uid.count <= 5 + 39, "\(uid)")
            let number = uid.dropFirst(5)
            #expect(number.first != "0" && number.allSatisfy(\.isNumber), "\(uid)")
        }
        for bad in ["", "../etc/passwd", "1.2/3", ".1.2", "1.2.", "1.2.a", String(repeating: "1", count: 65)] {
            #expect(!StorageCommitmentReport.isValidUID(bad), "\(bad)")
        }
    }

    @Test("Orthanc's JSON: pending without lists, then Success or Failure with described reasons; stored form reads back")
    func reportJSON() throws {
        let pending = StorageCommitmentReport(pending: "2.25.1", remoteAET: "PACS")
        #expect(pending.json == .object(["RemoteAET": .string("PACS"), "Status": .string("Pending")]))
        let reference = StorageCommitmentReport.Reference(sopClassUID: "1.2.840.10008.5.1.4.1.1.2", sopInstanceUID: "1.2.3")
        let missing = StorageCommitmentReport.Reference(sopClassUID: "1.2.840.10008.5.1.4.1.1.2", sopInstanceUID: "1.2.4")
        let failed = StorageCommitmentReport(transactionUID: "2.25.1", remoteAET: "PACS", complete: true, succeeded: [reference],
                                             failures: [.init(reference: missing, reason: 0x0112)])
        #expect(failed.status == .failure)
        let failure = try #require({ () -> JSONValue? in
            guard case .array(let items)? = failed.json["Failures"] else { return nil }
            return items.first
        }())
        #expect(failure["FailureReason"]?.intValue == 0x0112 && failure["SOPInstanceUID"]?.stringValue == "1.2.4")
        #expect(failure["Description"]?.stringValue == "One or more of the elements in the Referenced SOP Instance Sequence was not available")
        #expect(StorageCommitmentReport(stored: failed.storedJSON) == failed)
        #expect(StorageCommitmentReport(stored: pending.storedJSON) == pending)
        let success = StorageCommitmentReport(transactionUID: "2.25.2", remoteAET: "PACS", complete: true, succeeded: [reference], failures: [])
        #expect(success.status == .success && success.json["Status"]?.stringValue == "Success")
        #expect(StorageCommitmentReport.describe(0x9999) == "Unknown failure reason")
    }

    @Test("The store completes only transactions it recorded, and keeps at most its limit")
    func store() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("commitments-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = StorageCommitmentStore(storageRoot: root, limit: 3)
        let report = StorageCommitmentReport(transactionUID: "2.25.7", remoteAET: "PACS", complete: true, succeeded: [], failures: [])
        #expect(try store.complete(report) == false, "nobody asked for it")
        #expect(store.report("2.25.7") == nil)
        try store.recordPending("2.25.7", remoteAET: "PACS")
        #expect(store.report("2.25.7")?.status == .pending)
        #expect(try store.complete(report))
        #expect(store.report("2.25.7")?.status == .success)
        for uid in ["2.25.8", "2.25.9", "2.25.10"] { try store.recordPending(uid, remoteAET: "PACS") }
        let kept = try FileManager.default.contentsOfDirectory(atPath: store.folder).filter { $0.hasSuffix(".json") }
        #expect(kept.count == 3)
        #expect(store.report("../../etc/passwd") == nil)
    }

    @Test("Job outputs are named after the job only, whatever the ID holds")
    func outputs() {
        let outputs = JobOutputs(storageRoot: "/data")
        #expect(outputs.archive("6b0c1c3e-5d5f-4f0a-9b55-0b8f8b8f8b8f") == "/data/outbound/jobs/6b0c1c3e-5d5f-4f0a-9b55-0b8f8b8f8b8f.zip")
        #expect(outputs.archive("../../etc/passwd") == "/data/outbound/jobs/etcpasswd.zip")
        #expect(outputs.partialArchive("a") == "/data/outbound/jobs/a.zip.partial")
    }

    @Test("gzip streams that gzip itself reads back")
    func gzip() throws {
        let bytes = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 / 7) }
        let compressed = try #require(ZlibCompression.gzip(bytes))
        #expect(compressed.starts(with: [0x1F, 0x8B]) && compressed.count < bytes.count)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("gzip-\(UUID().uuidString).gz").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(compressed).write(to: URL(fileURLWithPath: path))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/gzip")
        process.arguments = ["-dc", path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0 && [UInt8](output) == bytes)
    }
}
