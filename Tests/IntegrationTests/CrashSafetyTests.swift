import Foundation
import Testing

extension ClusterTests {
    /// Processes killed mid-transfer: every instance whose C-STORE was answered Success ends up indexed exactly once.
    /// These kill and restart services of the test cluster (`scripts/cluster up` brings back what is not running).
    @Suite("Crash safety", .serialized)
    struct CrashSafetyTests {
        let environment: TestEnvironment
        let api: RESTClient

        init() throws {
            environment = try TestEnvironment.load()
            api = RESTClient(baseURL: environment.apiURL)
        }

        /// Waits for `ids`, then checks that each has exactly one NewInstance change and that no Seq repeats.
        func expectIndexedOnce(_ ids: [String]) async throws {
            let listed = try await api.waitForInstances(Set(ids), seconds: 180)
            #expect(Set(ids).isSubset(of: listed), "missing \(Set(ids).subtracting(listed).count) of \(ids.count)")
            let changes = try await api.changes()
            let seqs = changes.compactMap { $0["Seq"] as? Int }
            #expect(Set(seqs).count == seqs.count, "duplicate Seq in /changes")
            var counts: [String: Int] = [:]
            for change in changes where change["ChangeType"] as? String == "NewInstance" {
                if let id = change["ID"] as? String { counts[id, default: 0] += 1 }
            }
            let wrong = ids.filter { counts[$0] != 1 }
            #expect(wrong.isEmpty, "\(wrong.count) instances without exactly one NewInstance change")
            let all = try await api.json("/instances", as: [String].self)
            #expect(all.count == Set(all).count, "an instance is listed twice")
        }

        func restartCluster() async throws {
            let outcome = try await environment.cluster("up")
            #expect(outcome.status == 0, "\(outcome.output)")
        }

        @Test("kill -9 of the indexer during an ingest of 500 instances")
        func killIndexer() async throws {
            let set = try await TestDicomSet.make(environment, count: 500, seed: TestDicomSet.freshSeed(), size: 32)
            let pid = try environment.pid(of: "indexer")
            async let sending = StoreSCU(environment: environment).send(set.entries.map(\.File))
            try await Task.sleep(for: .milliseconds(700))
            #expect(kill(pid, SIGKILL) == 0)
            let outcome = try await sending
            #expect(StoreSCU.successes(outcome) == 500, "the gateway does not depend on the indexer")
            try await restartCluster()
            try await expectIndexedOnce(set.entries.map(\.ID))
        }

        @Test("kill -9 of the gateway mid-association")
        func killGateway() async throws {
            let set = try await TestDicomSet.make(environment, count: 400, seed: TestDicomSet.freshSeed(), size: 256)
            let pid = try environment.pid(of: "gateway")
            let operations = RESTClient(baseURL: "http://127.0.0.1:19101")
            let before = await Self.storedCount(operations: operations)
            async let sending = StoreSCU(environment: environment).send(set.entries.map(\.File))
            // Killed once it has stored a few of them, whatever its speed: mid-association.
            try await Self.waitUntilStored(before + 20, operations: operations)
            #expect(kill(pid, SIGKILL) == 0)
            let outcome = try await sending
            let acknowledged = StoreSCU.successes(outcome)
            #expect(acknowledged < 400, "the association should have been cut: \(outcome.output.suffix(500))")
            try await restartCluster()
            // storescu sends in order and each response is awaited: the first `acknowledged` files are the ones answered Success.
            try await expectIndexedOnce(set.entries.prefix(acknowledged).map(\.ID))
            // The modality retries everything; the instances stored before the crash are not doubled.
            let retry = try await StoreSCU(environment: environment).send(set.entries.map(\.File))
            #expect(StoreSCU.successes(retry) == 400)
            try await expectIndexedOnce(set.entries.map(\.ID))
        }

        @Test("An indexer stopped while instances arrive resumes from its committed offsets")
        func resumeConsumerGroup() async throws {
            let pid = try environment.pid(of: "indexer")
            #expect(kill(pid, SIGTERM) == 0)
            let deadline = ContinuousClock.now + .seconds(30)
            while kill(pid, 0) == 0 && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
            }
            let set = try await TestDicomSet.make(environment, count: 50, seed: TestDicomSet.freshSeed(), size: 32)
            let outcome = try await StoreSCU(environment: environment).send(set.entries.map(\.File))
            #expect(StoreSCU.successes(outcome) == 50)
            let before = try await api.instanceIDs()
            #expect(Set(set.entries.map(\.ID)).isDisjoint(with: before), "nothing can be indexed while the indexer is down")
            try await restartCluster()
            try await expectIndexedOnce(set.entries.map(\.ID))
        }

        /// How many instances the gateway whose operations port `operations` answers has stored since it started
        /// (`tessera_ingest_instances_total{result="stored"}`); 0 when it does not answer.
        static func storedCount(operations: RESTClient) async -> Int {
            let text = (try? await operations.get("/metrics"))?.text ?? ""
            let stored = text.split(separator: "\n").first { $0.hasPrefix("tessera_ingest_instances_total{result=\"stored\"}") }
            return stored.flatMap { Double($0.split(separator: " ").last ?? "") }.map { Int($0) } ?? 0
        }

        /// Waits (at most a minute) until that gateway has stored `count` instances since it started.
        static func waitUntilStored(_ count: Int, operations: RESTClient) async throws {
            let deadline = ContinuousClock.now + .seconds(60)
            while await storedCount(operations: operations) < count, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
        }

        /// The files storescu reported Success for, from its verbose output (each "Sending file" and the next response).
        static func acknowledged(_ outcome: ProcessRunner.Outcome) -> [String] {
            var files: [String] = []
            var current: String?
            for line in outcome.output.split(separator: "\n") {
                if let range = line.range(of: "Sending file: ") {
                    current = String(line[range.upperBound...])
                } else if line.contains("Received Store Response") {
                    if line.contains("(Success)"), let file = current { files.append(file) }
                    current = nil
                }
            }
            return files
        }

        @Test("kill -9 of the broker mid-ingest, restarted empty: every instance answered Success is indexed exactly once, and services recover by themselves")
        func killBroker() async throws {
            let set = try await TestDicomSet.make(environment, count: 300, seed: TestDicomSet.freshSeed(), size: 32)
            let gatewayOperations = RESTClient(baseURL: "http://127.0.0.1:19101")
            let broker = try environment.pid(of: "broker")
            async let sending = StoreSCU(environment: environment).send(set.entries.map(\.File))
            try await Task.sleep(for: .milliseconds(700))
            #expect(kill(broker, SIGKILL) == 0)
            // While the broker is down the gateway says it cannot take instances.
            let notReadyBy = ContinuousClock.now + .seconds(10)
            var sawNotReady = false
            while !sawNotReady && ContinuousClock.now < notReadyBy {
                sawNotReady = (try? await gatewayOperations.get("/ready"))?.status == 503
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(sawNotReady, "/ready must be false while the broker is away")
            try await Task.sleep(for: .seconds(2))
            try await restartCluster()  // brings back the broker only, empty
            let outcome = try await sending
            let acknowledged = Set(Self.acknowledged(outcome))
            #expect(!acknowledged.isEmpty)
            let ids = set.entries.filter { acknowledged.contains($0.File) }.map(\.ID)
            // The events of some acknowledged instances died with the broker: the reconciler indexes their blobs.
            try await expectIndexedOnce(ids)
            // Nothing was restarted but the broker: the gateway and the API publish again by themselves.
            let later = try await TestDicomSet.make(environment, count: 20, seed: TestDicomSet.freshSeed(), size: 32)
            let retry = try await StoreSCU(environment: environment).send(later.entries.map(\.File))
            #expect(StoreSCU.successes(retry) == 20, "\(retry.output.suffix(800))")
            #expect(try await gatewayOperations.get("/ready").status == 200)
            let upload = try await api.post("/instances", body: [UInt8](try Data(contentsOf: URL(fileURLWithPath:
                environment.repository + "/Tests/UnitTests/Fixtures/tags/chrFren.dcm"))))
            #expect(upload.status == 200)
            try await expectIndexedOnce(later.entries.map(\.ID))
        }
    }
}
