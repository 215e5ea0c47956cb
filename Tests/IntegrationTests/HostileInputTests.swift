import Foundation
import Testing
import ZIPFoundation

extension ClusterTests {
    /// Input crafted to hurt, over C-STORE and REST, against real processes: each gets a clear answer (Orthanc's error
    /// JSON, a DICOM failure status) and every service goes on serving. Where stock Orthanc answers sensibly, Tessera
    /// answers the same (compared live).
    @Suite("Hostile input", .serialized)
    struct HostileInputTests {
        let environment: TestEnvironment
        let tool: HostileTool

        init() throws {
            environment = try TestEnvironment.load()
            tool = HostileTool(environment: environment)
        }

        static let cannotUnderstand = 0xC000

        /// A stack with a gateway (AET HOSTILE on port 14290).
        func withStack(_ name: String, json: String = "{}", extra: [String: String] = [:],
                       _ body: (IsolatedStack) async throws -> Void) async throws {
            try await IsolatedStack.with(environment, name: name, apiPort: 18080, indexerMetricsPort: 19160, json: json,
                                         extra: extra) { stack in
                try await stack.startGateway(port: 14290, metricsPort: 19161, aeTitle: "HOSTILE", extra: extra)
                try await body(stack)
            }
        }

        func store(_ files: [String]) async throws -> [String: Any] {
            try await tool.run(["store", "--port", "14290", "--aet", "HOSTILE", "--files"] + files)
        }

        func upload(_ stack: IsolatedStack, _ path: String) async throws -> RESTClient.Answer {
            try await stack.api.post("/instances", body: [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
        }

        /// Every process of the stack still answers.
        func expectAlive(_ stack: IsolatedStack) async throws {
            #expect(try await stack.api.get("/health").status == 200, "the API is alive")
            #expect(try await stack.indexerMetrics.get("/health").status == 200, "the indexer is alive")
            #expect(try await RESTClient(baseURL: "http://127.0.0.1:19161").get("/health").status == 200, "the gateway is alive")
            #expect(try await stack.api.get("/instances").status == 200)
        }

        func orthancStatus(_ answer: RESTClient.Answer) -> Int? {
            (try? answer.json() as? [String: Any])?["OrthancStatus"] as? Int
        }

        @Test("Sequences nested 10,000 deep are refused over C-STORE and REST; 60 deep are stored and /tags shows them whole")
        func nesting() async throws {
            let deep = try await tool.make("nested", ["--depth", "10000"])
            let deepDefined = try await tool.make("nested", ["--depth", "10000", "--defined-length"])
            let tooDeep = try await tool.make("nested", ["--depth", "65"])
            let fine = try await tool.make("nested", ["--depth", "60"])
            try await withStack("tessera_nesting") { stack in
                let stored = try await store([deep, deepDefined, tooDeep, fine])
                #expect(stored["association"] as? String == "accepted")
                #expect((stored["statuses"] as? [Int])?.prefix(3).allSatisfy { $0 == Self.cannotUnderstand } == true, "\(stored)")
                #expect((stored["statuses"] as? [Int])?.last == 0, "\(stored)")
                for file in [deep, deepDefined, tooDeep] {
                    let answer = try await upload(stack, file)
                    #expect(answer.status == 400)
                    #expect(orthancStatus(answer) == 15, "Bad file format")
                }
                let accepted = try await upload(stack, fine)
                #expect(accepted.status == 200)
                let id = try #require((try accepted.json() as? [String: Any])?["ID"] as? String)
                let tags = try await stack.api.json("/instances/\(id)/tags?short")
                var depth = 0
                var node: Any? = tags["0040,a730"]
                while let items = node as? [[String: Any]], let item = items.first {
                    depth += 1
                    node = item["0040,a730"]
                }
                #expect(depth == 60, "the whole nesting is rendered")
                try await expectAlive(stack)
            }
        }

        @Test("A dataset nested 47 deep gets the same /tags as stock Orthanc")
        func nestingLikeOrthanc() async throws {
            let file = try await tool.make("nested", ["--depth", "47"])
            let orthanc = try await tool.oracle(["tags", file])
            let expected = try #require(orthanc["tags"] as? [String: Any], "stock Orthanc accepts 47 levels: \(orthanc)")
            try await withStack("tessera_nesting47") { stack in
                let answer = try await upload(stack, file)
                let id = try #require((try answer.json() as? [String: Any])?["ID"] as? String)
                let mine = try await stack.api.json("/instances/\(id)/tags")
                #expect(NSDictionary(dictionary: mine).isEqual(to: expected))
            }
        }

        @Test("Numbers that overflow (counters, NumberOfFrames 2^31-1) are stored; /frames lists what the pixel data holds")
        func overflow() async throws {
            let file = try await tool.make("overflow")
            try await withStack("tessera_overflow") { stack in
                let stored = try await store([file])
                #expect((stored["statuses"] as? [Int]) == [0], "\(stored)")
                let answer = try await upload(stack, file)
                #expect(answer.status == 200)
                let body = try #require(try answer.json() as? [String: Any])
                let id = try #require(body["ID"] as? String)
                let series = try #require(body["ParentSeries"] as? String)
                let seriesJSON = try await stack.api.json("/series/\(series)")
                #expect(seriesJSON["ExpectedNumberOfInstances"] is NSNull)
                let start = ContinuousClock.now
                let frames = try await stack.api.get("/instances/\(id)/frames")
                #expect(frames.status == 200)
                #expect(try frames.json() as? [Int] == [0])
                #expect(ContinuousClock.now - start < .seconds(5))
                try await expectAlive(stack)
            }
        }

        @Test("Identifiers longer than 256 bytes are refused as stock Orthanc refuses them; 256 bytes are fine")
        func longIdentifiers() async throws {
            let files = [
                try await tool.make("longid", ["--field", "PatientID", "--length", "6000"]),
                try await tool.make("longid", ["--field", "SOPInstanceUID", "--length", "6000"]),
                try await tool.make("longid", ["--field", "StudyInstanceUID", "--length", "257"]),
                try await tool.make("longid", ["--field", "PatientID", "--length", "256"]),
            ]
            let orthanc = try #require(try await tool.oracle(["upload"] + files)["uploads"] as? [[String: Any]])
            try await withStack("tessera_longid") { stack in
                for (file, expected) in zip(files, orthanc) {
                    let answer = try await upload(stack, file)
                    #expect(answer.status == expected["status"] as? Int, "\(file)")
                    if answer.status != 200 {
                        #expect(orthancStatus(answer) == (expected["body"] as? [String: Any])?["OrthancStatus"] as? Int)
                    }
                }
                // Over DICOM: "cannot understand" for each, but a 6,000-character SOP Instance UID does not even fit the
                // C-STORE command (DCMTK aborts the association, as Orthanc's does); never a Success.
                for (file, expected) in zip(files, [Self.cannotUnderstand, nil, Self.cannotUnderstand, 0]) {
                    let stored = try await store([file])
                    let status = (stored["statuses"] as? [Any])?.first as? Int
                    if let expected {
                        #expect(status == expected, "\(stored)")
                    } else {
                        #expect(status != 0, "\(stored)")
                    }
                }
                try await expectAlive(stack)
            }
        }

        @Test("Truncated files are refused over REST (400) and C-STORE (failure status), nothing half-stored")
        func truncated() async throws {
            let source = environment.repository + "/Tests/UnitTests/Fixtures/tags/CT_small.dcm"
            let cuts = [
                try await tool.make("truncated", ["--in", source, "--bytes", "300"]),
                try await tool.make("truncated", ["--in", source, "--bytes", "2000"]),
                try await tool.make("truncated", ["--in", source, "--bytes", "39000"]),
            ]
            try await withStack("tessera_truncated") { stack in
                for file in cuts {
                    let answer = try await upload(stack, file)
                    #expect(answer.status == 400, "\(file)")
                    #expect(orthancStatus(answer) == 15)
                }
                let stored = try await store(cuts)
                let statuses = stored["statuses"] as? [Int?] ?? []
                #expect(!statuses.contains { $0 == 0 }, "\(stored)")
                #expect(try await stack.api.json("/instances", as: [String].self).isEmpty)
                try await expectAlive(stack)
            }
        }

        @Test("ZIP uploads: a bomb and a forged ZIP64 size are refused, a nested ZIP is skipped as Orthanc does, names do not matter")
        func zips() async throws {
            let dicom = environment.repository + "/Tests/UnitTests/Fixtures/tags/CT_small.dcm"
            let inner = environment.repository + "/Tests/UnitTests/Fixtures/tags/MR_small_RLE.dcm"
            let bomb = try await tool.make("zipbomb", ["--inflated-mb", "300"], name: "bomb.zip")
            let lie = try await tool.make("zip64lie", name: "lie.zip")
            let nested = try await tool.make("nestedzip", ["--dicom", dicom, "--inner-dicom", inner], name: "nested.zip")
            let traversal = try await tool.make("traversalzip", ["--dicom", dicom], name: "traversal.zip")
            let many = try await tool.make("manyzip", ["--entries", "5000", "--dicom", inner], name: "many.zip")
            try await withStack("tessera_zips", json: #"{"MaximumUploadSize": 64}"#) { stack in
                let bombAnswer = try await upload(stack, bomb)
                #expect(bombAnswer.status == 413, "\(String(decoding: bombAnswer.body, as: UTF8.self))")
                #expect(orthancStatus(bombAnswer) != nil, "Orthanc's error JSON")
                // The declared size is not believed: the 20 bytes actually inflated are not DICOM, so nothing is stored.
                let lieAnswer = try await upload(stack, lie)
                #expect(lieAnswer.status == 200 || lieAnswer.status == 400, "\(String(decoding: lieAnswer.body, as: UTF8.self))")
                if lieAnswer.status == 200 { #expect((try lieAnswer.json() as? [Any])?.isEmpty == true) }
                let nestedAnswer = try await upload(stack, nested)
                #expect(nestedAnswer.status == 200)
                #expect((try nestedAnswer.json() as? [[String: Any]])?.count == 1, "the ZIP inside is not opened")
                let traversalAnswer = try await upload(stack, traversal)
                #expect(traversalAnswer.status == 200)
                #expect((try traversalAnswer.json() as? [[String: Any]])?.first?["Status"] as? String == "AlreadyStored")
                #expect(try FileManager.default.contentsOfDirectory(atPath: stack.storage + "/.incoming").isEmpty, "nothing left behind")

                // Entries are extracted one at a time, each stored before the next: 5,000 empty entries never make
                // 5,000 files at once on the shared storage (the body itself is the other incoming file).
                let incoming = stack.storage + "/.incoming"
                let sampling = Task {
                    var most = 0
                    while !Task.isCancelled {
                        most = max(most, (try? FileManager.default.contentsOfDirectory(atPath: incoming).count) ?? 0)
                        try? await Task.sleep(for: .milliseconds(5))
                    }
                    return most
                }
                let manyAnswer = try await upload(stack, many)
                sampling.cancel()
                let most = await sampling.value
                #expect(manyAnswer.status == 200)
                #expect((try manyAnswer.json() as? [[String: Any]])?.count == 1, "the one DICOM entry, after 5,000 empty ones")
                #expect(most <= 2, "incoming files at once: \(most)")
                #expect(try FileManager.default.contentsOfDirectory(atPath: incoming).isEmpty, "nothing left behind")
                try await expectAlive(stack)
            }
        }

        @Test("Bodies past MaximumUploadSize answer 413 at once, announced or chunked")
        func maximumUploadSize() async throws {
            let big = try await tool.make("big", ["--mb", "12"])
            try await withStack("tessera_maxupload", json: #"{"MaximumUploadSize": 4}"#) { stack in
                for chunked in [false, true] {
                    let answer = try await tool.run(["upload", "--url", "http://127.0.0.1:18080/instances", "--file", big]
                                                    + (chunked ? ["--chunked"] : []))
                    #expect(answer["status"] as? Int == 413, "\(answer)")
                    #expect((answer["body"] as? [String: Any])?["HttpStatus"] as? Int == 413)
                }
                #expect(try FileManager.default.contentsOfDirectory(atPath: stack.storage + "/.incoming").isEmpty)
                try await expectAlive(stack)
            }
        }

        @Test("Metadata keeps NUL bytes and invalid UTF-8 exactly, as Orthanc; /tools/lookup of such bytes finds nothing")
        func awkwardBytes() async throws {
            try await withStack("tessera_bytes", json: #"{"UserMetadata": {"Sample": 1024}}"#) { stack in
                let api = stack.api
                let upload = try await upload(stack, environment.repository + "/Tests/UnitTests/Fixtures/tags/CT_small.dcm")
                let id = try #require((try upload.json() as? [String: Any])?["ID"] as? String)
                let value: [UInt8] = [0x41, 0x00, 0x42, 0xFF, 0xFE, 0x20, 0x43]
                #expect(try await api.send("PUT", "/instances/\(id)/metadata/Sample", body: value).status == 200)
                #expect(try await api.get("/instances/\(id)/metadata/Sample").body == value)
                let expanded = try await api.json("/instances/\(id)/metadata?expand")
                #expect(expanded["Sample"] as? String == "A\u{0}B\u{FFFD}\u{FFFD} C")
                for body in [[UInt8]("A\u{0}B".utf8), [0xFF, 0xFE], [0x00]] {
                    let lookup = try await api.send("POST", "/tools/lookup", body: body)
                    #expect(lookup.status == 200)
                    #expect(try lookup.json() as? [Any] != nil)
                }
                let padded = try await api.send("POST", "/tools/lookup", body: Array("  1.3.6.1.4.1.5962.1.2.1.20040119072730.12322\u{0} ".utf8))
                #expect((try padded.json() as? [[String: Any]])?.first?["Type"] as? String == "Study", "trimmed as Orthanc")
            }
        }

        @Test("Huge Since and Limit answer instead of crashing")
        func hugeNumbers() async throws {
            try await withStack("tessera_numbers") { stack in
                let api = stack.api
                _ = try await upload(stack, environment.repository + "/Tests/UnitTests/Fixtures/tags/CT_small.dcm")
                for body in [
                    #"{"Level": "Study", "Query": {}, "Since": 9223372036854775807, "Limit": 9223372036854775807}"#,
                    #"{"Level": "Study", "Query": {"StationName": "*"}, "Since": 9223372036854775000, "Limit": 9223372036854775000}"#,
                    #"{"Level": "Instance", "Query": {"StationName": "*"}, "Since": 1, "Limit": 9223372036854775000}"#,
                ] {
                    let answer = try await api.send("POST", "/tools/find", body: Array(body.utf8))
                    #expect(answer.status == 200 || answer.status == 400, "\(body): \(answer.status)")
                }
                for path in ["/changes?since=9223372036854775807&limit=9223372036854775807", "/instances?since=9223372036854775807&limit=9223372036854775807",
                             "/exports?since=9223372036854775807&limit=9223372036854775807"] {
                    #expect(try await api.get(path).status == 200, "\(path)")
                }
                try await expectAlive(stack)
            }
        }

        @Test("Archive entry names never climb out of the archive")
        func archiveNames() async throws {
            let file = try await tool.make("path-names")
            try await withStack("tessera_names") { stack in
                let answer = try await upload(stack, file)
                let patient = try #require((try answer.json() as? [String: Any])?["ParentPatient"] as? String)
                let zip = try await stack.api.get("/patients/\(patient)/archive")
                #expect(zip.status == 200)
                let archive = try Archive(data: Data(zip.body), accessMode: .read)
                let names = archive.map(\.path)
                #expect(!names.isEmpty)
                for name in names {
                    let components = name.split(separator: "/", omittingEmptySubsequences: false)
                    #expect(!name.hasPrefix("/") && !components.contains { $0 == ".." || $0 == "." }, "\(name)")
                }
            }
        }

        @Test("Non-ASCII identifiers get the public IDs stock Orthanc gives them (converted to UTF-8, then hashed)")
        func nonASCIIIdentifiers() async throws {
            let cases: [(hex: String, charset: String)] = [
                ("4DDC4C4C4552", "ISO_IR 100"),      // MÜLLER in Latin-1
                ("4DD64C4C4552", "ISO_IR 100"),      // MÖLLER in Latin-1
                ("4DDC4C4C4552", ""),                // no SpecificCharacterSet: Latin-1 by default
                ("4DC39C4C4C4552", "ISO_IR 192"),    // MÜLLER in UTF-8
                ("4DC39C4C4C4552", ""),              // UTF-8 bytes read as Latin-1
                ("2020414220202020", ""),            // "  AB    ": trailing spaces go, leading ones stay
                ("41420043", ""),                    // "AB\0C": cut at the NUL
            ]
            var files: [String] = []
            for (index, item) in cases.enumerated() {
                files.append(try await tool.make("latin1", ["--patient-id-hex", item.hex, "--charset", item.charset,
                                                           "--uids-from", "nonascii-\(index)"]))
            }
            let orthanc = try #require(try await tool.oracle(["upload"] + files)["uploads"] as? [[String: Any]])
            try await withStack("tessera_nonascii") { stack in
                for (file, expected) in zip(files, orthanc) {
                    let answer = try await upload(stack, file)
                    #expect(answer.status == 200)
                    let mine = try #require(try answer.json() as? [String: Any])
                    let theirs = try #require(expected["body"] as? [String: Any])
                    #expect(mine["ParentPatient"] as? String == theirs["ParentPatient"] as? String, "\(file)")
                    #expect(mine["ID"] as? String == theirs["ID"] as? String, "\(file)")
                    let patient = try await stack.api.json("/patients/\(try #require(mine["ParentPatient"] as? String))")
                    let shown = (patient["MainDicomTags"] as? [String: Any])?["PatientID"] as? String
                    #expect(shown == (expected["patient"] as? [String: Any])?["PatientID"] as? String, "\(file)")
                }
                #expect(try await stack.api.json("/patients", as: [String].self).count
                        == Set(orthanc.compactMap { ($0["body"] as? [String: Any])?["ParentPatient"] as? String }).count)
            }
        }
    }
}
