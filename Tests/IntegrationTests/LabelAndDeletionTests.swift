import Foundation
import Index
import Logging
import Model
import PostgresNIO
import Testing

extension ClusterTests {
    /// Labels, deletion with blob removal (also after a crash between commit and removal), change log clearing,
    /// requested tags and output forms, on an index of their own.
    @Suite("Labels, deletion and find options", .serialized)
    struct LabelAndDeletionTests {
        let environment: TestEnvironment
        let folder: String

        init() throws {
            environment = try TestEnvironment.load()
            folder = environment.repository + "/Tests/UnitTests/Fixtures/tags"
        }

        func upload(_ api: RESTClient, _ file: String) async throws -> [String: String] {
            let answer = try await api.post("/instances", body: [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(folder)/\(file)"))))
            #expect(answer.status == 200, "\(file)")
            return try #require(try answer.json() as? [String: String])
        }

        func ids(_ answer: RESTClient.Answer) throws -> Set<String> {
            Set(try #require(try answer.json() as? [String]))
        }

        func withStack(_ name: String, port: Int, metrics: Int, _ body: (IsolatedStack) async throws -> Void) async throws {
            try await IsolatedStack.with(environment, name: name, apiPort: port, indexerMetricsPort: metrics, body)
        }

        @Test("Labels: put, test, list, find with All/Any/None, shown in resources, validated, gone with the resource")
        func labels() async throws {
            try await withStack("tessera_labels", port: 18046, metrics: 19106) { stack in
                let api = stack.api
                let ct = try await upload(api, "CT_small.dcm")
                let mr = try await upload(api, "MR_small_bigendian.dcm")
                let ctStudy = try #require(ct["ParentStudy"]), mrStudy = try #require(mr["ParentStudy"])
                #expect(try await api.send("PUT", "/studies/\(ctStudy)/labels/Research").status == 200)
                #expect(try await api.send("PUT", "/studies/\(ctStudy)/labels/Teaching-1").status == 200)
                #expect(try await api.send("PUT", "/studies/\(mrStudy)/labels/Research").status == 200)
                let mrInstance = try #require(mr["ID"])
                #expect(try await api.send("PUT", "/instances/\(mrInstance)/labels/keep_me").status == 200)
                #expect(try await api.json("/studies/\(ctStudy)/labels", as: [String].self) == ["Research", "Teaching-1"])
                #expect(try await api.get("/studies/\(ctStudy)/labels/Research").status == 200)
                #expect(try await api.get("/studies/\(mrStudy)/labels/Teaching-1").status == 404)
                #expect(try await api.json("/tools/labels", as: [String].self) == ["Research", "Teaching-1", "keep_me"])
                #expect(try await api.json("/studies/\(ctStudy)")["Labels"] as? [String] == ["Research", "Teaching-1"])

                func find(_ labels: [String], _ constraint: String) async throws -> Set<String> {
                    try ids(try await api.post("/tools/find", json: ["Level": "Study", "Query": [String: String](),
                                                                    "Labels": labels, "LabelsConstraint": constraint]))
                }
                #expect(try await find(["Research", "Teaching-1"], "All") == [ctStudy])
                #expect(try await find(["Research", "Teaching-1"], "Any") == [ctStudy, mrStudy])
                #expect(try await find(["Teaching-1"], "None") == [mrStudy])
                #expect(try await find([], "None").isEmpty, "every study has a label")

                let invalid = try await api.send("PUT", "/studies/\(ctStudy)/labels/bad%20label")
                #expect(invalid.status == 400)
                #expect((try invalid.json() as? [String: Any])?["OrthancStatus"] as? Int == 3)
                #expect(try await api.send("PUT", "/studies/00000000-00000000-00000000-00000000-00000000/labels/x").status == 404)
                #expect(try await api.send("DELETE", "/studies/\(ctStudy)/labels/Teaching-1").status == 200)
                #expect(try await api.json("/studies/\(ctStudy)/labels", as: [String].self) == ["Research"])
                #expect(try await api.send("DELETE", "/studies/\(ctStudy)").status == 200)
                #expect(try await api.json("/tools/labels", as: [String].self) == ["Research", "keep_me"])
            }
        }

        @Test("DELETE removes rows, change entries and blobs; a crash between commit and removal is finished later")
        func deletion() async throws {
            try await withStack("tessera_delete", port: 18047, metrics: 19107) { stack in
                let api = stack.api
                let first = try await upload(api, "CT_small.dcm")
                let instance = try #require(first["ID"])
                let record = try await api.json("/instances/\(instance)")
                let uuid = try #require(record["FileUuid"] as? String)
                let blob = Self.blobPath(stack, uuid)
                #expect(FileManager.default.fileExists(atPath: blob), "blob at \(blob)")
                let deleted = try await api.send("DELETE", "/patients/\(try #require(first["ParentPatient"]))")
                #expect(deleted.status == 200)
                #expect((try deleted.json() as? [String: Any])?["RemainingAncestor"] is NSNull)
                #expect(!FileManager.default.fileExists(atPath: blob), "blob removed after the commit")
                #expect(try await api.json("/patients", as: [String].self).isEmpty)
                let changes = try await api.json("/changes?limit=1000")["Changes"] as? [[String: Any]] ?? []
                #expect(changes.isEmpty, "change entries of deleted resources are gone: \(changes)")
                let statistics = try await api.json("/statistics")
                #expect(statistics["CountInstances"] as? Int == 0 && statistics["TotalDiskSize"] as? String == "0")

                // A replica died after committing a deletion and before removing the file: the queue row survives,
                // and the next sweep (here: a fresh API process) removes the file. A queued blob that an instance
                // references again is kept.
                let again = try await upload(api, "CT_small.dcm")
                let againID = try #require(again["ID"])
                let kept = try #require(try await api.json("/instances/\(againID)")["FileUuid"] as? String)
                let orphanUUID = UUID().uuidString.lowercased()
                let orphan = Self.blobPath(stack, orphanUUID)
                try FileManager.default.createDirectory(atPath: (orphan as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                #expect(FileManager.default.createFile(atPath: orphan, contents: Data([1, 2, 3])))
                try await queue(stack, [orphanUUID, kept])
                let replica = try await environment.startReplica(port: 18048, json: "{}", extra: [
                    "TESSERA_PG_DATABASE": stack.name, "TESSERA_KAFKA_TOPIC": stack.name, "TESSERA_STORAGE_DIR": stack.storage,
                ])
                defer { kill(replica.pid, SIGKILL) }
                var remaining = 2
                for _ in 0..<100 where remaining > 0 {
                    try await Task.sleep(for: .milliseconds(200))
                    remaining = try await pending(stack)
                }
                #expect(remaining == 0)
                #expect(!FileManager.default.fileExists(atPath: orphan), "queued blob removed by the sweep")
                #expect(try await api.get("/instances/\(againID)/file").status == 200, "referenced blob kept")
            }
        }

        @Test("DELETE of one instance keeps its series; bulk-delete; DELETE /changes; unknown resources 404")
        func partialDeletes() async throws {
            try await withStack("tessera_delete2", port: 18049, metrics: 19108) { stack in
                let api = stack.api
                let a = try await upload(api, "JPEG-lossy.dcm")
                let b = try await upload(api, "JPEG2000.dcm")
                let c = try await upload(api, "chrArab.dcm")
                #expect(try await api.send("DELETE", "/instances/00000000-00000000-00000000-00000000-00000000").status == 404)
                let first = try #require(a["ID"])
                let collections = ["Series": "series", "Study": "studies", "Patient": "patients"]
                var before: [String: String] = [:]
                for (type, key) in [("Series", "ParentSeries"), ("Study", "ParentStudy"), ("Patient", "ParentPatient")] {
                    before[type] = try await api.json("/\(collections[type] ?? "")/\(try #require(a[key]))")["LastUpdate"] as? String
                }
                try await Task.sleep(for: .milliseconds(1100))  // LastUpdate counts seconds
                let answer = try await api.send("DELETE", "/instances/\(first)")
                let remaining = try #require((try answer.json() as? [String: Any])?["RemainingAncestor"] as? [String: String])
                if a["ParentSeries"] == b["ParentSeries"] {
                    #expect(remaining["Type"] == "Series" && remaining["ID"] == b["ParentSeries"])
                } else {
                    #expect(remaining["Type"] != "Instance")
                }
                // As Orthanc 1.12.1+: the ancestor that remains was updated by the deletion.
                let type = try #require(remaining["Type"])
                let after = try await api.json("/\(collections[type] ?? "")/\(try #require(remaining["ID"]))")["LastUpdate"] as? String
                #expect((after ?? "") > (before[type] ?? "~"), "\(type) LastUpdate \(before[type] ?? "") then \(after ?? "")")
                // ?expand=false on a child list: bare IDs (Orthanc 1.12.2+).
                let children = try await api.json("/studies/\(try #require(b["ParentStudy"]))/instances?expand=false", as: [String].self)
                #expect(children.contains(try #require(b["ID"])))
                let targets = [try #require(b["ParentStudy"]), try #require(c["ID"])]
                let bulk = try await api.post("/tools/bulk-delete", json: ["Resources": targets])
                #expect(bulk.status == 200)
                #expect(try await api.json("/instances", as: [String].self).isEmpty)
                #expect(try await api.send("DELETE", "/changes").status == 200)
                let log = try await api.json("/changes")
                #expect((log["Changes"] as? [Any])?.isEmpty == true)
                #expect(try await api.post("/tools/bulk-delete", json: ["Resources": 3]).status == 400)
            }
        }

        @Test("Find: requested tags (main, computed, from the file), Short and Full forms, lookup, bad bodies")
        func findOptions() async throws {
            try await withStack("tessera_find2", port: 18050, metrics: 19109) { stack in
                let api = stack.api
                let ct = try await upload(api, "CT_small.dcm")
                let found = try await api.post("/tools/find", json: [
                    "Level": "Study", "Query": ["PatientName": "*"], "Expand": true,
                    "RequestedTags": ["PatientName", "ModalitiesInStudy", "NumberOfStudyRelatedInstances", "SliceThickness", "0028,0010",
                                      "SOPClassesInStudy", "InstanceAvailability"],
                ])
                #expect(found.status == 200)
                let study = try #require((try found.json() as? [[String: Any]])?.first)
                let requested = try #require(study["RequestedTags"] as? [String: String])
                #expect(requested["ModalitiesInStudy"] == "CT")
                #expect(requested["NumberOfStudyRelatedInstances"] == "1")
                #expect(requested["PatientName"] == "CompressedSamples^CT1")
                #expect(requested["SliceThickness"] == "5.000000")
                #expect(requested["Rows"] == "128")
                #expect(requested["SOPClassesInStudy"] == "1.2.840.10008.5.1.4.1.1.2")
                #expect(requested["InstanceAvailability"] == nil)  // an instance-level computed tag
                let instances = try await api.json("/instances?expand&requested-tags=InstanceAvailability", as: [[String: Any]].self)
                #expect((instances.first?["RequestedTags"] as? [String: String])?["InstanceAvailability"] == "ONLINE")

                let short = try await api.post("/tools/find", json: ["Level": "Series", "Query": ["Modality": "CT"], "Expand": true, "Short": true])
                let series = try #require((try short.json() as? [[String: Any]])?.first)
                #expect((series["MainDicomTags"] as? [String: String])?["0008,0060"] == "CT")
                let full = try await api.post("/tools/find", json: ["Level": "Series", "Query": ["Modality": "CT"], "Expand": true, "Full": true])
                let fullSeries = try #require((try full.json() as? [[String: Any]])?.first)
                let entry = try #require((fullSeries["MainDicomTags"] as? [String: Any])?["0008,0060"] as? [String: String])
                #expect(entry == ["Name": "Modality", "Type": "String", "Value": "CT"])

                // Orthanc 1.12.5's options are refused, never ignored (Tessera's ApiVersion is 1.12.4's).
                let ordered = try await api.post("/tools/find", json: ["Level": "Study", "Query": [:], "OrderBy": [["Type": "DicomTag", "Key": "StudyDate", "Direction": "ASC"]]])
                #expect(ordered.status == 400)
                #expect(((try ordered.json() as? [String: Any])?["Details"] as? String)?.contains("OrderBy") == true)
                #expect(try await api.get("/changes?to=3").status == 400)
                #expect(try await api.get("/changes?type=NewStudy").status == 400)
                let conformance = try await api.get("/tools/dicom-conformance")
                #expect(conformance.status == 200)
                #expect(conformance.header("Content-Type")?.hasPrefix("text/plain") == true)
                #expect(conformance.text.contains("Store SCP Conformance"))
                #expect(conformance.text.range(of: #"  CTImageStorage +\| 1\.2\.840\.10008\.5\.1\.4\.1\.1\.2\n"#, options: .regularExpression) != nil)
                #expect(conformance.text.contains("| 1.2.840.10008.1.2.4.50"), "the transfer syntaxes accepted")

                let list = try await api.json("/studies?expand&requested-tags=StudyDate;0010,0010", as: [[String: Any]].self)
                #expect((list.first?["RequestedTags"] as? [String: String])?["PatientName"] == "CompressedSamples^CT1")

                let lookup = try await api.send("POST", "/tools/lookup", body: Array("1.3.6.1.4.1.5962.1.2.1.20040119072730.12322".utf8))
                #expect(lookup.status == 200)
                let hits = try #require(try lookup.json() as? [[String: String]])
                let studyID = try #require(ct["ParentStudy"])
                #expect(hits == [["ID": studyID, "Path": "/studies/\(studyID)", "Type": "Study"]])

                for body in [#"{"Level": "Study"}"#, #"{"Level": "Nope", "Query": {}}"#, #"{"Level": "Study", "Query": {"PatientName": 3}}"#,
                             "not json", #"{"Level": "Study", "Query": {}, "Limit": -1}"#] {
                    let bad = try await api.send("POST", "/tools/find", body: Array(body.utf8))
                    #expect(bad.status == 400, "\(body)")
                    #expect((try? bad.json() as? [String: Any])?["HttpStatus"] as? Int == 400, "\(body)")
                }
                #expect(try await api.get("/tools/find").status == 405)
            }
        }

        /// Where the blob store keeps a blob (two levels of two-character folders).
        static func blobPath(_ stack: IsolatedStack, _ uuid: String) -> String {
            "\(stack.storage)/\(uuid.prefix(2))/\(uuid.dropFirst(2).prefix(2))/\(uuid)"
        }

        private func queue(_ stack: IsolatedStack, _ uuids: [String]) async throws {
            try await stack.withClient { client, logger in
                for uuid in uuids {
                    try await client.query("INSERT INTO pending_blob_deletions (file_uuid) VALUES (\(uuid))", logger: logger)
                }
            }
        }

        private func pending(_ stack: IsolatedStack) async throws -> Int {
            try await stack.withClient { client, logger in
                var count = 0
                for try await value in try await client.query("SELECT COUNT(*) FROM pending_blob_deletions", logger: logger).decode(Int64.self) {
                    count = Int(value)
                }
                return count
            }
        }
    }
}
