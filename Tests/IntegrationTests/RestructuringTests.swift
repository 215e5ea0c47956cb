import Foundation
import Testing

extension ClusterTests {
    /// `/tools/create-dicom`, `/studies/{id}/split|merge` and `/tools/bulk-modify|bulk-anonymize` side by side with stock
    /// Orthanc (Tests/tools/restructure_compare.py), and a bulk job that survives the death of its worker.
    @Suite("DICOM creation, split, merge and bulk modification at Orthanc fidelity", .serialized)
    struct RestructuringTests {
        let environment: TestEnvironment

        init() throws {
            environment = try TestEnvironment.load()
        }

        /// Differences with stock Orthanc 1.10.1 that are ours by choice, with the reason.
        static let allowed: [(name: String, reason: String)] = [
            // An item of a Content list whose Tags override the series' values: Orthanc's error handling looks up the
            // series of an instance it never stored and answers 404 Unknown resource; the override error is the cause.
            ("series-override", "400 CreateDicomOverrideTag rather than 1.10.1's 404"),
        ]

        @Test("create-dicom (tags, PNG/JPEG/PDF content, parents, series, errors), split, merge and bulk jobs answer and store what stock Orthanc does")
        func sideBySide() async throws {
            try await IsolatedStack.with(environment, name: "restructure", apiPort: 18451, indexerMetricsPort: 19451) { stack in
                try await stack.startWorker(metricsPort: 19452)
                let set = try await TestDicomSet.make(environment, count: 8, seed: TestDicomSet.freshSeed(), patients: 1, studies: 2,
                                                      series: 2, size: 16)
                let report = try await environment.tool("restructure_compare.py", ["--api", stack.api.baseURL] + set.entries.map(\.File))
                #expect(report["compared"] as? Int ?? 0 >= 60 && report["instances"] as? Int ?? 0 >= 100, "\(report)")
                let different = (report["different"] as? [[String: String]] ?? []).filter { difference in
                    !Self.allowed.contains { $0.name == difference["case"] }
                }
                #expect(different.isEmpty, "answers or files differ from stock Orthanc's: \(different)")
                // What a user sees, on our side alone.
                let statuses = report["statuses"] as? [String: Int] ?? [:]
                #expect(statuses["png-rgb"] == 200 && statuses["series"] == 200 && statuses["parent-study"] == 200)
                #expect(statuses["uid-without-force"] == 400 && statuses["parent-instance"] == 400 && statuses["text-content"] == 500)
                #expect(statuses["split-series"] == 200 && statuses["merge-study"] == 200 && statuses["bulk-anonymize"] == 200)
                #expect(statuses["merge-self"] == 404 && statuses["split-series-tag"] == 400 && statuses["bulk-modify-missing"] == 400)
            }
        }

        @Test("A bulk modification whose worker is killed mid-way resumes on another: every copy once, the answer lists them all, the originals go")
        func resumedBulk() async throws {
            try await IsolatedStack.with(environment, name: "bulk_kill", apiPort: 18452, indexerMetricsPort: 19453,
                                         extra: ["TESSERA_JOB_LEASE": "3"]) { stack in
                let api = stack.api
                let (job, _, count) = try await stack.killMidway(
                    route: { _ in "/tools/bulk-modify" },
                    body: { ["Resources": [$0], "Replace": ["InstitutionName": "Bulk"], "KeepSource": false] },
                    firstWorkerPort: 19454, secondWorkerPort: 19455)
                #expect(job["State"] as? String == "Success", "\(job)")
                let content = try #require(job["Content"] as? [String: Any])
                let made = try #require(content["Resources"] as? [[String: Any]])
                let madeInstances = Set(made.filter { $0["Type"] as? String == "Instance" }.compactMap { $0["ID"] as? String })
                #expect(madeInstances.count == count, "the answer lists every copy, also those of the first run: \(madeInstances.count)")
                let instances = Set(try #require(try await api.send("GET", "/instances").json() as? [String]))
                #expect(instances == madeInstances, "the copies and nothing else: \(instances.count) instances")
                // Every copy carries the modification.
                let sample = try #require(madeInstances.first)
                let tags = try await api.json("/instances/\(sample)/simplified-tags")
                #expect(tags["InstitutionName"] as? String == "Bulk")
            }
        }

        @Test("KeepLabels (Orthanc 1.12.3): a modified study's new patient, study, series and instances carry the originals' labels; without it, none")
        func keepLabels() async throws {
            try await IsolatedStack.with(environment, name: "keep_labels", apiPort: 18453, indexerMetricsPort: 19456) { stack in
                try await stack.startWorker(metricsPort: 19457)
                let api = stack.api
                let set = try await TestDicomSet.make(environment, count: 4, seed: TestDicomSet.freshSeed(), patients: 1, studies: 1,
                                                      series: 2, size: 16)
                #expect(try await set.upload(to: api).allSatisfy { $0 == 200 })
                let first = try #require(set.entries.first)
                for (collection, id, label) in [("patients", first.ParentPatient, "patient-label"), ("studies", first.ParentStudy, "study-label"),
                                                ("series", first.ParentSeries, "series-label"), ("instances", first.ID, "instance-label")] {
                    #expect(try await api.send("PUT", "/\(collection)/\(id)/labels/\(label)").status == 200)
                }
                for keep in [true, false] {
                    let answer = try await api.post("/studies/\(first.ParentStudy)/modify", json: [
                        "Replace": ["PatientID": keep ? "KEPT" : "DROPPED"], "Force": true, "KeepLabels": keep,
                    ]).json() as? [String: Any]
                    let study = try #require(answer?["ID"] as? String)
                    let studyJSON = try await api.json("/studies/\(study)")
                    #expect((studyJSON["Labels"] as? [String] ?? []) == (keep ? ["study-label"] : []), "\(studyJSON)")
                    let patient = try await api.json("/patients/\(try #require(studyJSON["ParentPatient"] as? String))")
                    #expect((patient["Labels"] as? [String] ?? []) == (keep ? ["patient-label"] : []))
                    let series = try #require(try await api.send("GET", "/studies/\(study)/series").json() as? [[String: Any]])
                    let seriesLabels = series.flatMap { $0["Labels"] as? [String] ?? [] }
                    #expect(seriesLabels == (keep ? ["series-label"] : []), "one new series carries the label: \(seriesLabels)")
                    let instances = try #require(try await api.send("GET", "/studies/\(study)/instances").json() as? [[String: Any]])
                    let instanceLabels = instances.flatMap { $0["Labels"] as? [String] ?? [] }
                    #expect(instanceLabels == (keep ? ["instance-label"] : []), "\(instanceLabels)")
                }
            }
        }
    }
}
