import Foundation
import Testing

extension ClusterTests {
    /// `/statistics` and `/{level}/{id}/statistics` read while uploads run on four connections.
    @Suite("Statistics under concurrent ingest", .serialized)
    struct StatisticsTests {
        let environment: TestEnvironment

        init() throws {
            environment = try TestEnvironment.load()
        }

        @Test("Every snapshot is consistent (counts ordered, size = count x file size, never decreasing); totals exact at the end")
        func concurrentIngest() async throws {
            let set = try await TestDicomSet.make(environment, count: 120, seed: TestDicomSet.freshSeed(), patients: 3, studies: 2, series: 2)
            let sizes = try set.entries.map { try FileManager.default.attributesOfItem(atPath: $0.File)[.size] as? Int ?? -1 }
            let smallest = try #require(sizes.min()), largest = try #require(sizes.max())
            let total = sizes.reduce(0, +)
            let perPatient = Dictionary(grouping: zip(set.entries, sizes), by: { $0.0.ParentPatient }).mapValues { $0.map(\.1).reduce(0, +) }
            try await IsolatedStack.with(environment, name: "tessera_statistics", apiPort: 18051, indexerMetricsPort: 19110) { stack in
                let api = stack.api
                let uploads = Task {
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for lane in 0..<4 {
                            group.addTask {
                                for (index, entry) in set.entries.enumerated() where index % 4 == lane {
                                    let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: entry.File)))
                                    let answer = try await api.post("/instances", body: bytes)
                                    guard answer.status == 200 else { throw RESTClient.UnexpectedAnswer(path: entry.File, status: answer.status, body: "") }
                                }
                            }
                        }
                        try await group.waitForAll()
                    }
                }
                var previous = 0
                var snapshots = 0
                let deadline = ContinuousClock.now + .seconds(120)
                while true {
                    let statistics = try await api.json("/statistics")
                    let patients = statistics["CountPatients"] as? Int ?? -1, studies = statistics["CountStudies"] as? Int ?? -1
                    let series = statistics["CountSeries"] as? Int ?? -1, instances = statistics["CountInstances"] as? Int ?? -1
                    let disk = Int(statistics["TotalDiskSize"] as? String ?? "") ?? -1
                    #expect(patients <= studies && studies <= series && series <= instances, "\(statistics)")
                    // Sizes differ by a few bytes (UID lengths): the size must fit the count of the same snapshot.
                    #expect(disk >= instances * smallest && disk <= instances * largest, "size fits the count: \(statistics)")
                    #expect(instances >= previous, "never decreasing")
                    previous = instances
                    snapshots += 1
                    if instances == set.entries.count || ContinuousClock.now > deadline { break }
                    try await Task.sleep(for: .milliseconds(20))
                }
                try await uploads.value
                #expect(snapshots > 2, "statistics were read while uploads ran")
                let final = try await api.json("/statistics")
                #expect(final["CountInstances"] as? Int == 120 && final["CountPatients"] as? Int == 3)
                #expect(final["CountStudies"] as? Int == 6 && final["CountSeries"] as? Int == 12)
                #expect(final["TotalDiskSize"] as? String == String(total))
                let patient = try #require(set.entries.first?.ParentPatient)
                let own = try await api.json("/patients/\(patient)/statistics")
                #expect(own["CountInstances"] as? Int == 40 && own["CountStudies"] as? Int == 2 && own["CountSeries"] as? Int == 4)
                #expect(own["DiskSize"] as? String == perPatient[patient].map(String.init))
            }
        }
    }
}
