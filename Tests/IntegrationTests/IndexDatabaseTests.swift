import Foundation
@testable import Index
import Logging
import Model
import PostgresNIO
import Testing

extension ClusterTests {
    /// Migrations and the idempotent writer against the real PostgreSQL, each test on a database of its own.
    @Suite("PostgreSQL index", .serialized)
    struct IndexDatabaseTests {
        let environment: TestEnvironment
        let logger = Logger(label: "test.index")

        init() throws {
            environment = try TestEnvironment.load()
        }

        func settings(_ database: String) -> DatabaseSettings {
            var settings = DatabaseSettings()
            settings.host = "127.0.0.1"
            settings.port = environment.postgresPort
            settings.database = database
            return settings
        }

        /// Creates a database, runs `body` with clients running, drops the database.
        func withScratchDatabase(_ body: (String) async throws -> Void) async throws {
            let name = "tessera_test_\(UUID().uuidString.prefix(8).lowercased())"
            let admin = IndexDatabase(settings: settings("postgres"), logger: logger)
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { await admin.client.run() }
                try await admin.client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
                do {
                    try await body(name)
                } catch {
                    _ = try? await admin.client.query(PostgresQuery(unsafeSQL: "DROP DATABASE \(name) WITH (FORCE)"), logger: logger)
                    tasks.cancelAll()
                    throw error
                }
                try await admin.client.query(PostgresQuery(unsafeSQL: "DROP DATABASE \(name) WITH (FORCE)"), logger: logger)
                tasks.cancelAll()
            }
        }

        @Test("Three processes migrating at once apply each migration exactly once")
        func concurrentMigrations() async throws {
            try await withScratchDatabase { name in
                let databases = (0..<3).map { _ in IndexDatabase(settings: settings(name), logger: logger) }
                try await withThrowingTaskGroup(of: Void.self) { tasks in
                    for database in databases { tasks.addTask { await database.client.run() } }
                    let versions = try await withThrowingTaskGroup(of: Int.self) { migrations in
                        for database in databases { migrations.addTask { try await database.migrate() } }
                        return try await migrations.reduce(into: []) { $0.append($1) }
                    }
                    let latest = try #require(SchemaMigration.all.last?.version)
                    #expect(versions == [latest, latest, latest])
                    var rows = 0
                    for try await count in try await databases[0].client.query(
                        "SELECT COUNT(*) FROM tessera_schema", logger: logger).decode(Int64.self) { rows = Int(count) }
                    #expect(rows == SchemaMigration.all.count)
                    for try await exists in try await databases[0].client.query(
                        "SELECT to_regclass('instances') IS NOT NULL", logger: logger).decode(Bool.self) { #expect(exists) }
                    tasks.cancelAll()
                }
            }
        }

        @Test("A statement running past PostgreSQL.StatementTimeout is cancelled by the server")
        func statementTimeout() async throws {
            try await withScratchDatabase { name in
                var limited = settings(name)
                limited.statementTimeoutSeconds = 1
                let database = IndexDatabase(settings: limited, logger: logger)
                try await withThrowingTaskGroup(of: Void.self) { tasks in
                    tasks.addTask { await database.client.run() }
                    try await database.migrate()
                    let started = ContinuousClock.now
                    await #expect(throws: PSQLError.self) {
                        for try await _ in try await database.client.query("SELECT pg_sleep(5)::text", logger: logger) {}
                    }
                    #expect(ContinuousClock.now - started < .seconds(4))
                    try await database.client.query("SELECT pg_sleep(0.1)", logger: logger)
                    tasks.cancelAll()
                }
            }
        }

        @Test("Find constraints on names, IDs, dates, accession numbers, modalities and descriptions can use an index")
        func findUsesIndexes() async throws {
            try await withScratchDatabase { name in
                let database = IndexDatabase(settings: settings(name), logger: logger)
                try await withThrowingTaskGroup(of: Void.self) { tasks in
                    tasks.addTask { await database.client.run() }
                    try await database.migrate()
                    let name = DicomTag(0x0010, 0x0010)
                    func constraint(_ level: ResourceLevel, _ tagName: String, _ vr: String, _ value: String) throws -> FindQuery.Constraint {
                        FindQuery.Constraint(level: level, name: tagName,
                                             constraint: try #require(try TagConstraint.parse(tag: name, vr: vr, value: value, caseSensitive: false)))
                    }
                    let cases: [(FindQuery, String)] = [
                        (FindQuery(level: .study, constraints: [try constraint(.patient, "PatientName", "PN", "SMI*")]), "studies_find_patient_patientname"),
                        (FindQuery(level: .patient, constraints: [try constraint(.patient, "PatientName", "PN", "*MITH*")]), "patients_find_patientname"),
                        (FindQuery(level: .study, constraints: [try constraint(.patient, "PatientID", "LO", "ID-42")]), "studies_find_patient_patientid"),
                        (FindQuery(level: .study, constraints: [try constraint(.study, "StudyDate", "DA", "20200101-20201231")]), "studies_find_studydate"),
                        (FindQuery(level: .study, constraints: [try constraint(.study, "AccessionNumber", "SH", "A123")]), "studies_find_accessionnumber"),
                        (FindQuery(level: .study, constraints: [try constraint(.study, "StudyDescription", "LO", "*CHEST*")]), "studies_find_studydescription"),
                        (FindQuery(level: .series, constraints: [try constraint(.series, "Modality", "CS", "CT\\MR")]), "series_find_modality"),
                        (FindQuery(level: .series, constraints: [try constraint(.series, "SeriesDescription", "LO", "AX*")]), "series_find_seriesdescription"),
                    ]
                    for (query, index) in cases {
                        var statement = FindStatement()
                        let sql = statement.sql(for: query)
                        // With sequential scans priced out, the plan shows whether an index can serve the query at all
                        // (on a nearly empty table the planner would scan either way).
                        let plan = try await database.client.withTransaction(logger: logger) { connection in
                            try await connection.query("SET LOCAL enable_seqscan = off", logger: logger)
                            var lines: [String] = []
                            for try await line in try await connection.query(PostgresQuery(unsafeSQL: "EXPLAIN " + sql, binds: statement.bindings),
                                                                             logger: logger).decode(String.self) {
                                lines.append(line)
                            }
                            return lines.joined(separator: "\n")
                        }
                        #expect(plan.contains(index), "\(index) not used:\n\(plan)")
                    }
                    tasks.cancelAll()
                }
            }
        }

        func stored(_ sop: String, blob: BlobID, patient: String = "PAT", study: String = "1.2",
                    overwrite: Bool = false) throws -> StoredInstance {
            let ids = try InstanceIdentifiers(patientID: patient, studyInstanceUID: study, seriesInstanceUID: study + ".3",
                                              sopInstanceUID: sop)
            let summary = InstanceSummary(identifiers: ids, patientTags: ["PatientID": patient, "PatientName": "Doe^Jane"],
                                          studyTags: ["StudyInstanceUID": study], seriesTags: ["Modality": "CT"],
                                          instanceTags: ["SOPInstanceUID": sop], sopClassUID: "1.2.840.10008.5.1.4.1.1.2",
                                          transferSyntaxUID: "1.2.840.10008.1.2.1", indexInSeries: 1)
            return StoredInstance(summary: summary, fileUUID: blob, fileSize: 10, fileMD5: "0123456789abcdef0123456789abcdef",
                                  origin: "DicomProtocol", remoteAET: "SCU", calledAET: "TESSERA", remoteIP: "127.0.0.1",
                                  receptionDate: Date(), overwrite: overwrite)
        }

        /// Runs `body` with a migrated scratch database and its writer.
        func withWriter(_ body: (IndexDatabase, InstanceWriter) async throws -> Void) async throws {
            try await withScratchDatabase { name in
                let database = IndexDatabase(settings: settings(name), logger: logger)
                try await withThrowingTaskGroup(of: Void.self) { tasks in
                    tasks.addTask { await database.client.run() }
                    try await database.migrate()
                    try await body(database, InstanceWriter(database: database))
                    tasks.cancelAll()
                }
            }
        }

        func count(_ database: IndexDatabase, _ sql: String) async throws -> Int {
            for try await count in try await database.query(PostgresQuery(unsafeSQL: sql)).decode(Int64.self) { return Int(count) }
            return 0
        }

        func queued(_ database: IndexDatabase) async throws -> Set<String> {
            var names: Set<String> = []
            for try await name in try await database.query("SELECT file_uuid FROM pending_blob_deletions").decode(String.self) {
                names.insert(name)
            }
            return names
        }

        @Test("Replaying an event changes nothing; the same instance under a second blob queues that blob for removal")
        func idempotentWrites() async throws {
            try await withWriter { database, writer in
                let queries = InstanceQueries(database: database)
                let (a, b, c) = (BlobID.generate(), BlobID.generate(), BlobID.generate())
                let first = try await writer.write([try stored("1.2.3.1", blob: a), try stored("1.2.3.2", blob: b)], blobExists: { _ in true })
                #expect(first.map(\.outcome) == [.indexed, .indexed])
                let replay = try await writer.write([try stored("1.2.3.1", blob: a)], blobExists: { _ in true })
                #expect(replay.map(\.outcome) == [.unchanged])
                let again = try await writer.write([try stored("1.2.3.1", blob: c)], blobExists: { _ in true })
                #expect(again.map(\.outcome) == [.alreadyStored])
                #expect(try await queued(database) == [c.value])
                #expect(try await queries.count() == 2)
                let id = try InstanceIdentifiers(patientID: "PAT", studyInstanceUID: "1.2", seriesInstanceUID: "1.2.3",
                                                 sopInstanceUID: "1.2.3.1")
                let record = try #require(try await queries.instance(id.instancePublicID))
                #expect(record.fileUUID == a)
                #expect(record.fileMD5 == "0123456789abcdef0123456789abcdef")
                #expect(record.parentSeries == id.seriesPublicID)
                #expect(try await count(database, "SELECT COUNT(*) FROM patients") == 1)
                #expect(try await count(database, "SELECT COUNT(*) FROM changes WHERE change_type = 2") == 2)
            }
        }

        @Test("OverwriteInstances: a later copy replaces, an earlier one never does, and replays never queue the live blob")
        func overwriteOrder() async throws {
            try await withWriter { database, writer in
                let queries = InstanceQueries(database: database)
                let older = BlobID.generate()
                let newer = BlobID.generate()
                let id = try InstanceIdentifiers(patientID: "PAT", studyInstanceUID: "1.2", seriesInstanceUID: "1.2.3",
                                                 sopInstanceUID: "9.9").instancePublicID
                #expect(try await writer.write([try stored("9.9", blob: older, overwrite: true)], blobExists: { _ in true })
                    .map(\.outcome) == [.indexed])
                #expect(try await writer.write([try stored("9.9", blob: newer, overwrite: true)], blobExists: { _ in true })
                    .map(\.outcome) == [.replaced])
                #expect(try await queries.instance(id)?.fileUUID == newer)
                // The whole history re-delivered, in any order: the newer copy stays, its blob is never queued.
                for batch in [[older, newer], [newer, older], [older], [newer]] {
                    _ = try await writer.write(try batch.map { try stored("9.9", blob: $0, overwrite: true) }, blobExists: { _ in true })
                    #expect(try await queries.instance(id)?.fileUUID == newer)
                    #expect(!(try await queued(database)).contains(newer.value))
                }
                #expect(try await queued(database) == [older.value])
            }
        }

        @Test("A deleted instance stays deleted when its events replay; a copy ingested after the deletion is indexed")
        func tombstones() async throws {
            try await withWriter { database, writer in
                let queries = InstanceQueries(database: database)
                let first = BlobID.generate()
                let evenOlder = try #require(BlobID(validating: "00000000-0000-4000-8000-000000000001"))
                let id = try InstanceIdentifiers(patientID: "PAT", studyInstanceUID: "1.2", seriesInstanceUID: "1.2.3",
                                                 sopInstanceUID: "7.7").instancePublicID
                _ = try await writer.write([try stored("7.7", blob: first)], blobExists: { _ in true })
                #expect(try await ResourceDeleter(database: database).delete(.instance, id) != nil)
                let replays = try await writer.write([try stored("7.7", blob: first), try stored("7.7", blob: evenOlder)],
                                                     blobExists: { _ in true })
                #expect(replays.map(\.outcome) == [.deleted, .deleted])
                #expect(try await queries.instance(id) == nil)
                #expect(try await count(database, "SELECT COUNT(*) FROM patients") == 0, "the patient must not come back empty")
                let later = BlobID.generate()
                #expect(try await writer.write([try stored("7.7", blob: later)], blobExists: { _ in true }).map(\.outcome) == [.indexed])
                #expect(try await queries.instance(id)?.fileUUID == later)
            }
        }

        @Test("A copy that lost stays out when its event replays after the winner's deletion; a reconciled row learns its origin from the late event")
        func queuedAndReconciled() async throws {
            try await withWriter { database, writer in
                let queries = InstanceQueries(database: database)
                let (winner, loser) = (BlobID.generate(), BlobID.generate())
                let id = try InstanceIdentifiers(patientID: "PAT", studyInstanceUID: "1.2", seriesInstanceUID: "1.2.3",
                                                 sopInstanceUID: "5.5").instancePublicID
                #expect(try await writer.write([try stored("5.5", blob: winner)], blobExists: { _ in true }).map(\.outcome) == [.indexed])
                #expect(try await writer.write([try stored("5.5", blob: loser)], blobExists: { _ in true }).map(\.outcome) == [.alreadyStored])
                #expect(try await ResourceDeleter(database: database).delete(.instance, id) != nil)
                // The loser was ingested after the winner, and its blob still waits for the reaper.
                #expect(try await writer.write([try stored("5.5", blob: loser)], blobExists: { _ in true }).map(\.outcome) == [.deleted])
                #expect(try await queries.instance(id) == nil)

                let blob = BlobID.generate()
                var fromFile = try stored("6.6", blob: blob)
                fromFile.origin = StoredInstance.reconciledOrigin
                (fromFile.remoteAET, fromFile.calledAET, fromFile.remoteIP) = (nil, nil, nil)
                let reconciledID = fromFile.summary.identifiers.instancePublicID
                #expect(try await writer.write([fromFile], blobExists: { _ in true }).map(\.outcome) == [.indexed])
                #expect(try await queries.instance(reconciledID)?.origin == "Unknown")
                #expect(try await writer.write([try stored("6.6", blob: blob)], blobExists: { _ in true }).map(\.outcome) == [.unchanged])
                let record = try #require(try await queries.instance(reconciledID))
                #expect(record.origin == "DicomProtocol")
                #expect(record.calledAET == "TESSERA")
                #expect(record.remoteAET == "SCU")
                #expect(record.remoteIP == "127.0.0.1")
                #expect(try await count(database, "SELECT COUNT(*) FROM changes WHERE change_type = 2 AND public_id = '\(reconciledID.value)'") == 1,
                        "no second NewInstance")
            }
        }

        @Test("An attachment's blob is queued before it is written and removed unless its row claims it; a blob that cannot be removed does not hold up the queue")
        func reservedBlobs() async throws {
            try await withWriter { database, writer in
                let queue = BlobDeletionQueue(database: database)
                let attachments = AttachmentStore(database: database)
                let instance = try stored("4.4", blob: BlobID.generate())
                _ = try await writer.write([instance], blobExists: { _ in true })
                let id = instance.summary.identifiers.instancePublicID
                let (claimed, abandoned, unknown) = (BlobID.generate(), BlobID.generate(), BlobID.generate())
                for blob in [claimed, abandoned, unknown] { try await queue.reserve(blob) }
                func record(_ blob: BlobID) -> AttachmentRecord {
                    AttachmentRecord(contentType: 1024, uuid: blob, uncompressedSize: 3, uncompressedMD5: "m", compressedSize: 3,
                                     compressedMD5: "m", isCompressed: false)
                }
                #expect(try await attachments.put(.instance, id, record(claimed)) == 0, "a new attachment is revision 0")
                let nobody = try #require(PublicID(validating: "00000000-00000000-00000000-00000000-00000000"))
                #expect(try await attachments.put(.instance, nobody, record(unknown)) == nil)
                let removed = RemovedBlobs()
                _ = try await queue.drain { removed.add($0) }
                #expect(removed.all == [unknown], "the abandoned reservation waits, the claimed one is gone from the queue")
                #expect(try await queued(database) == [abandoned.value])

                // An hour later (as if): the abandoned blob goes, even when another removal fails first.
                let stuck = BlobID.generate()
                try await queue.reserve(stuck, for: .zero)
                _ = try await database.query("UPDATE pending_blob_deletions SET not_before = now() - interval '1 second'")
                _ = try await queue.drain { blob in
                    if blob == stuck { throw TesseraError(.cannotWriteFile, details: "EISDIR") }
                    removed.add(blob)
                }
                #expect(removed.all == [unknown, abandoned])
                #expect(try await queued(database) == [stuck.value], "kept, to be tried again later")
                #expect(try await count(database, "SELECT COUNT(*) FROM pending_blob_deletions WHERE not_before > now()") == 1)
            }
        }

        @Test("Public IDs equal across levels stay apart: PatientID \"X|1.2\" is not the study 1.2 of patient X")
        func levelsDoNotShareKeys() async throws {
            try await withWriter { database, writer in
                let a = try stored("5.1", blob: BlobID.generate(), patient: "X", study: "1.2")
                let b = try stored("5.2", blob: BlobID.generate(), patient: "X|1.2", study: "3.4")
                #expect(a.summary.identifiers.studyPublicID == b.summary.identifiers.patientPublicID)
                _ = try await writer.write([a, b], blobExists: { _ in true })
                #expect(try await count(database, "SELECT COUNT(*) FROM patients") == 2)
                #expect(try await count(database, "SELECT COUNT(*) FROM studies") == 2)
                let resources = ResourceQueries(database: database)
                let patientOfB = try #require(try await resources.resource(.patient, b.summary.identifiers.patientPublicID))
                #expect(patientOfB.mainTags["PatientID"] == "X|1.2")
            }
        }

        @Test("An event whose blob is not on storage indexes nothing")
        func missingBlob() async throws {
            try await withWriter { database, writer in
                let result = try await writer.write([try stored("6.1", blob: BlobID.generate())], blobExists: { _ in false })
                #expect(result.map(\.outcome) == [.missingBlob])
                #expect(try await count(database, "SELECT COUNT(*) FROM instances") == 0)
                #expect(try await count(database, "SELECT COUNT(*) FROM patients") == 0)
            }
        }

        @Test("One batch mixing new instances, a replay, two copies of one instance and a missing blob: outcomes, rows, parents marked updated, Orthanc's change order")
        func mixedBatch() async throws {
            try await withWriter { database, writer in
                let indexed = BlobID.generate()
                _ = try await writer.write([try stored("1.2.3.9", blob: indexed)], blobExists: { _ in true })
                try await database.query("UPDATE series SET is_stable = true")
                let (copyA, copyB, missing) = (BlobID.generate(), BlobID.generate(), BlobID.generate())
                let other = try stored("7.7.1", blob: .generate(), patient: "OTHER", study: "7.7")
                let batch = [
                    try stored("1.2.3.1", blob: .generate()), try stored("1.2.3.2", blob: .generate()),
                    try stored("1.2.3.9", blob: indexed), try stored("1.2.3.4", blob: copyA), try stored("1.2.3.4", blob: copyB),
                    try stored("1.2.3.5", blob: missing), other,
                ]
                let outcomes = try await writer.write(batch, blobExists: { $0 != missing }).map(\.outcome)
                #expect(outcomes[0] == .indexed && outcomes[1] == .indexed && outcomes[6] == .indexed)
                #expect(outcomes[2] == .unchanged)
                #expect(outcomes[5] == .missingBlob)
                // Two copies of one instance: the first in ingest order is indexed, the other queued for removal.
                let (winner, loser) = copyA < copyB ? (3, 4) : (4, 3)
                #expect(outcomes[winner] == .indexed && outcomes[loser] == .alreadyStored)
                #expect(try await queued(database) == [batch[loser].fileUUID.value])
                #expect(try await count(database, "SELECT COUNT(*) FROM instances") == 5)
                #expect(try await count(database, "SELECT COUNT(*) FROM patients") == 2)
                #expect(try await count(database, "SELECT COUNT(*) FROM series") == 2)
                #expect(try await count(database, "SELECT COUNT(*) FROM series WHERE is_stable") == 0, "the series that got instances is updated")
                let row = try #require(try await InstanceQueries(database: database).instance(other.summary.identifiers.instancePublicID))
                #expect(row.fileUUID == other.fileUUID && row.fileMD5 == other.fileMD5)
                // Changes after the first batch's four: each new instance, the resources it created right after it.
                var changes: [(Int16, String)] = []
                for try await change in try await database.query("SELECT change_type, public_id FROM changes WHERE seq > 4 ORDER BY seq")
                    .decode((Int16, String).self) {
                    changes.append(change)
                }
                #expect(changes.filter { $0.0 == Int16(ChangeType.newInstance.rawValue) }.count == 4)
                let ids = other.summary.identifiers
                let position = try #require(changes.firstIndex { $0.1 == ids.instancePublicID.value })
                #expect(changes.count == position + 4 || changes[position + 4].0 == Int16(ChangeType.newInstance.rawValue))
                #expect(changes[(position + 1)...].prefix(3).map(\.1)
                        == [ids.seriesPublicID.value, ids.studyPublicID.value, ids.patientPublicID.value])
            }
        }

        @Test("A deadlock between two transactions is retried: both complete")
        func deadlockRetried() async throws {
            try await withWriter { database, _ in
                try await database.query("CREATE TABLE counters (id INTEGER PRIMARY KEY, value INTEGER NOT NULL)")
                try await database.query("INSERT INTO counters VALUES (1, 0), (2, 0)")
                async let forward: Void = database.withTransaction { connection in
                    try await connection.query("UPDATE counters SET value = value + 1 WHERE id = 1", logger: logger)
                    try await connection.query("SELECT pg_sleep(0.5)", logger: logger)
                    try await connection.query("UPDATE counters SET value = value + 1 WHERE id = 2", logger: logger)
                }
                async let backward: Void = database.withTransaction { connection in
                    try await connection.query("UPDATE counters SET value = value + 1 WHERE id = 2", logger: logger)
                    try await connection.query("SELECT pg_sleep(0.5)", logger: logger)
                    try await connection.query("UPDATE counters SET value = value + 1 WHERE id = 1", logger: logger)
                }
                _ = try await (forward, backward)
                #expect(try await count(database, "SELECT SUM(value) FROM counters") == 4, "each transaction applied exactly once")
            }
        }
    }
}

/// Blobs a drain removed, in order.
final class RemovedBlobs: @unchecked Sendable {
    private let lock = NSLock()
    private var blobs: [BlobID] = []

    func add(_ blob: BlobID) { lock.withLock { blobs.append(blob) } }
    var all: [BlobID] { lock.withLock { blobs } }
}
