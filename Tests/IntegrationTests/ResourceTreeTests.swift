import Foundation
import Testing

extension ClusterTests {
    /// The read side of the resource tree, metadata, the change log and stable resources, after a DICOM ingest.
    @Suite("Resource tree, metadata, changes and stability", .serialized)
    struct ResourceTreeTests {
        let environment: TestEnvironment
        let api: RESTClient

        init() throws {
            environment = try TestEnvironment.load()
            api = RESTClient(baseURL: environment.apiURL)
        }

        /// 2 patients × 2 studies × 2 series, one instance each, sent over DICOM and indexed.
        func ingest(seed: Int = TestDicomSet.freshSeed()) async throws -> TestDicomSet {
            let set = try await TestDicomSet.make(environment, count: 8, seed: seed)
            let outcome = try await StoreSCU(environment: environment).send(set.entries.map(\.File))
            #expect(StoreSCU.successes(outcome) == 8, "\(outcome.output)")
            let ids = Set(set.entries.map(\.ID))
            #expect(ids.isSubset(of: try await api.waitForInstances(ids)))
            return set
        }

        @Test("Patients, studies, series and instances link to each other as in Orthanc")
        func navigation() async throws {
            let set = try await ingest()
            for entry in set.entries {
                let series = try await api.json("/series/\(entry.ParentSeries)")
                #expect(series["Type"] as? String == "Series")
                #expect(series["ParentStudy"] as? String == entry.ParentStudy)
                #expect((series["Instances"] as? [String]) == [entry.ID])
                #expect(series["Status"] as? String == "Unknown")
                #expect(series["ExpectedNumberOfInstances"] is NSNull)
                #expect((series["MainDicomTags"] as? [String: String])?["SeriesInstanceUID"] == entry.SeriesInstanceUID)
                #expect((series["MainDicomTags"] as? [String: String])?["Modality"] == "CT")

                let study = try await api.json("/studies/\(entry.ParentStudy)")
                #expect(study["ParentPatient"] as? String == entry.ParentPatient)
                #expect((study["Series"] as? [String])?.contains(entry.ParentSeries) == true)
                #expect((study["MainDicomTags"] as? [String: String])?["StudyInstanceUID"] == entry.StudyInstanceUID)
                #expect((study["PatientMainDicomTags"] as? [String: String])?["PatientID"] == entry.PatientID)
                #expect((study["MainDicomTags"] as? [String: String])?["PatientID"] == nil)

                let patient = try await api.json("/patients/\(entry.ParentPatient)")
                #expect((patient["Studies"] as? [String])?.contains(entry.ParentStudy) == true)
                #expect((patient["MainDicomTags"] as? [String: String])?["PatientID"] == entry.PatientID)
                #expect(patient["LastUpdate"] as? String != nil)

                #expect(try await api.json("/instances/\(entry.ID)/patient")["ID"] as? String == entry.ParentPatient)
                #expect(try await api.json("/instances/\(entry.ID)/study")["ID"] as? String == entry.ParentStudy)
                #expect(try await api.json("/instances/\(entry.ID)/series")["ID"] as? String == entry.ParentSeries)
                #expect(try await api.json("/series/\(entry.ParentSeries)/patient")["ID"] as? String == entry.ParentPatient)
                #expect(try await api.json("/studies/\(entry.ParentStudy)/patient")["ID"] as? String == entry.ParentPatient)
            }
            let patient = try #require(set.entries.first?.ParentPatient)
            let mine = set.entries.filter { $0.ParentPatient == patient }
            let studies = try await api.json("/patients/\(patient)/studies", as: [[String: Any]].self)
            #expect(Set(studies.compactMap { $0["ID"] as? String }) == Set(mine.map(\.ParentStudy)))
            let instances = try await api.json("/patients/\(patient)/instances", as: [[String: Any]].self)
            #expect(Set(instances.compactMap { $0["ID"] as? String }) == Set(mine.map(\.ID)))
            #expect(instances.allSatisfy { $0["Type"] as? String == "Instance" })
            let study = try #require(mine.first?.ParentStudy)
            let seriesOfStudy = try await api.json("/studies/\(study)/series", as: [[String: Any]].self)
            #expect(Set(seriesOfStudy.compactMap { $0["ID"] as? String }) == Set(mine.filter { $0.ParentStudy == study }.map(\.ParentSeries)))

            let sizes = try mine.map { try FileManager.default.attributesOfItem(atPath: $0.File)[.size] as? Int ?? 0 }
            let statistics = try await api.json("/patients/\(patient)/statistics")
            #expect(statistics["CountStudies"] as? Int == 2)
            #expect(statistics["CountSeries"] as? Int == 4)
            #expect(statistics["CountInstances"] as? Int == 4)
            let diskSize = try #require(statistics["DiskSize"] as? String)
            #expect(Int(diskSize) ?? 0 >= sizes.reduce(0, +) - 4 * 512)  // the gateway rebuilds the meta header
            let totals = try await api.json("/statistics")
            #expect(totals["CountInstances"] as? Int ?? 0 >= 8)
            #expect(totals["TotalDiskSize"] is String)

            let unknown = "00000000-00000000-00000000-00000000-00000000"
            #expect(try await api.get("/patients/\(unknown)").status == 404)
            #expect(try await api.get("/patients/\(unknown)/studies").status == 404)
            #expect(try await api.get("/studies/\(unknown)/statistics").status == 404)
            let ids = try await api.json("/patients", as: [String].self)
            #expect(Set(mine.map(\.ParentPatient)).isSubset(of: Set(ids)))
            let expanded = try await api.json("/studies?expand&since=0&limit=1", as: [[String: Any]].self)
            #expect(expanded.count == 1 && expanded[0]["Type"] as? String == "Study")
        }

        @Test("Metadata recorded at ingest, as Orthanc names it")
        func metadata() async throws {
            let set = try await ingest()
            let entry = try #require(set.entries.first)
            let names = try await api.json("/instances/\(entry.ID)/metadata", as: [String].self)
            #expect(Set(["ReceptionDate", "RemoteAET", "Origin", "CalledAET", "RemoteIP", "SopClassUid", "TransferSyntax", "IndexInSeries"])
                .isSubset(of: Set(names)))
            let values = try await api.json("/instances/\(entry.ID)/metadata?expand", as: [String: String].self)
            #expect(values["Origin"] == "DicomProtocol")
            #expect(values["RemoteAET"] == "TESTSCU")
            #expect(values["CalledAET"] == environment.dicomAET)
            #expect(values["RemoteIP"] == "127.0.0.1")
            #expect(values["SopClassUid"] == "1.2.840.10008.5.1.4.1.1.2")
            #expect(values["TransferSyntax"] == "1.2.840.10008.1.2.1")
            #expect(values["IndexInSeries"] == "1")
            #expect(values["ReceptionDate"]?.count == 15)
            let origin = try await api.get("/instances/\(entry.ID)/metadata/Origin")
            #expect(origin.status == 200 && String(decoding: origin.body, as: UTF8.self) == "DicomProtocol")
            #expect(try await api.get("/instances/\(entry.ID)/metadata/NoSuchName").status == 404)
            let series = try await api.json("/series/\(entry.ParentSeries)/metadata?expand", as: [String: String].self)
            #expect(series["LastUpdate"]?.count == 15)
        }

        @Test("Change log: each New* exactly once, in increasing Seq; Stable* once each after StableAge")
        func changesAndStability() async throws {
            let set = try await ingest()
            let all = try await api.changes()
            let seqs = all.compactMap { $0["Seq"] as? Int }
            #expect(seqs == seqs.sorted() && Set(seqs).count == seqs.count, "Seq must increase strictly")
            func count(_ type: String, _ id: String) -> Int {
                all.filter { $0["ChangeType"] as? String == type && $0["ID"] as? String == id }.count
            }
            for entry in set.entries {
                #expect(count("NewInstance", entry.ID) == 1)
                #expect(count("NewSeries", entry.ParentSeries) == 1)
                #expect(count("NewStudy", entry.ParentStudy) == 1)
                #expect(count("NewPatient", entry.ParentPatient) == 1)
            }
            let first = try #require(set.entries.first)
            let newInstance = all.first { $0["ID"] as? String == first.ID }
            #expect(newInstance?["Path"] as? String == "/instances/\(first.ID)")
            #expect(newInstance?["ResourceType"] as? String == "Instance")

            // StableAge is 3 s in the test cluster.
            let deadline = ContinuousClock.now + .seconds(30)
            var stable: [[String: Any]] = []
            let series = Set(set.entries.map(\.ParentSeries))
            repeat {
                try await Task.sleep(for: .seconds(1))
                stable = try await api.changes().filter { ($0["ChangeType"] as? String)?.hasPrefix("Stable") == true }
            } while !series.isSubset(of: Set(stable.compactMap { $0["ID"] as? String })) && ContinuousClock.now < deadline
            for entry in set.entries {
                #expect(stable.filter { $0["ID"] as? String == entry.ParentSeries }.map { $0["ChangeType"] as? String } == ["StableSeries"])
                #expect(stable.filter { $0["ID"] as? String == entry.ParentStudy }.map { $0["ChangeType"] as? String } == ["StableStudy"])
                #expect(stable.filter { $0["ID"] as? String == entry.ParentPatient }.map { $0["ChangeType"] as? String } == ["StablePatient"])
                #expect(try await api.json("/series/\(entry.ParentSeries)")["IsStable"] as? Bool == true)
                #expect(try await api.json("/patients/\(entry.ParentPatient)")["IsStable"] as? Bool == true)
            }
            let last = try await api.json("/changes?last")
            #expect((last["Changes"] as? [[String: Any]])?.count == 1)
            #expect(last["Last"] as? Int == (try await api.changes()).compactMap { $0["Seq"] as? Int }.max())
        }
    }
}
