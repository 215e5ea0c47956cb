import Foundation
import Testing

extension ClusterTests {
    /// The storage SOP classes and transfer syntaxes the gateway negotiates, as Orthanc's defaults: every storage
    /// SOP class (retired ones too), every transfer syntax, each instance stored in the syntax it arrived in.
    @Suite("Gateway transfer syntaxes and SOP classes", .serialized)
    struct TransferSyntaxTests {
        let environment: TestEnvironment
        let api: RESTClient

        init() throws {
            environment = try TestEnvironment.load()
            api = RESTClient(baseURL: environment.apiURL)
        }

        /// Runs a DCMTK tool and fails the test with its output when it fails.
        func tool(_ name: String, _ arguments: [String]) async throws {
            let outcome = try await ProcessRunner.run(name, arguments)
            try #require(outcome.status == 0, "\(name) \(arguments): \(outcome.output)")
        }

        func instanceID(sopInstanceUID: String) async throws -> String? {
            let list = try #require(try await api.get("/instances?expand").json() as? [[String: Any]])
            return list.first { ($0["MainDicomTags"] as? [String: Any])?["SOPInstanceUID"] as? String == sopInstanceUID }?["ID"] as? String
        }

        @Test("Compressed, deflated, big-endian and implicit files, a retired SOP class: all accepted, stored as received")
        func acceptedAsOrthanc() async throws {
            let set = try await TestDicomSet.make(environment, count: 7, seed: TestDicomSet.freshSeed(), size: 32)
            let e = set.entries
            // (file, expected transfer syntax, expected SOP class or nil, storescu's option to propose that syntax)
            var cases: [(String, String, String?, String)] = []
            func converted(_ index: Int, _ suffix: String) -> String { "\(set.folder)/\(index)-\(suffix).dcm" }
            try await tool("dcmcjpeg", [e[0].File, converted(0, "jpeg")])            // JPEG lossless SV1
            cases.append((converted(0, "jpeg"), "1.2.840.10008.1.2.4.70", nil, "-xs"))
            try await tool("dcmcrle", [e[1].File, converted(1, "rle")])
            cases.append((converted(1, "rle"), "1.2.840.10008.1.2.5", nil, "-xr"))
            try await tool("dcmcjpls", [e[2].File, converted(2, "jpls")])
            cases.append((converted(2, "jpls"), "1.2.840.10008.1.2.4.80", nil, "-xt"))
            try await tool("dcmconv", ["+td", e[3].File, converted(3, "deflated")])
            cases.append((converted(3, "deflated"), "1.2.840.10008.1.2.1.99", nil, "-xd"))
            try await tool("dcmconv", ["+tb", e[4].File, converted(4, "big")])
            cases.append((converted(4, "big"), "1.2.840.10008.1.2.2", nil, "-xb"))
            try await tool("dcmconv", ["+ti", e[5].File, converted(5, "implicit")])
            cases.append((converted(5, "implicit"), "1.2.840.10008.1.2", nil, "-xi"))
            // Ultrasound Image Storage (Retired): outside DCMTK's 128-context "AllDICOM" profile, accepted by Orthanc.
            let retired = "1.2.840.10008.5.1.4.1.1.6"
            try await tool("dcmodify", ["-nb", "-i", "(0008,0016)=\(retired)", e[6].File])  // the meta header follows
            cases.append((e[6].File, "1.2.840.10008.1.2.1", retired, "-xe"))

            // One association per file, proposing exactly the file's syntax (no conversion by storescu).
            for (file, _, _, option) in cases {
                let outcome = try await ProcessRunner.run("storescu", ["-v", "-R", option, "-aec", environment.dicomAET,
                                                                        "-aet", "TESTSCU", "127.0.0.1", String(environment.dicomPort), file])
                #expect(StoreSCU.successes(outcome) == 1, "\(file): \(outcome.output)")
            }
            #expect(try await api.waitForInstances(Set(e.map(\.ID))).isSuperset(of: e.map(\.ID)))
            for (index, (file, syntax, sopClass, _)) in cases.enumerated() {
                let metadata = try await api.json("/instances/\(e[index].ID)/metadata?expand", as: [String: String].self)
                #expect(metadata["TransferSyntax"] == syntax, "\(file)")
                if let sopClass { #expect(metadata["SopClassUid"] == sopClass, "\(file)") }
                // The stored file is the one that arrived: same transfer syntax in its meta header.
                let header = try await api.json("/instances/\(e[index].ID)/header?short", as: [String: String].self)
                #expect(header["0002,0010"] == syntax, "\(file)")
            }
        }

        @Test("JPEG 2000 is accepted and stored as JPEG 2000")
        func jpeg2000() async throws {
            let source = environment.repository + "/Tests/UnitTests/Fixtures/tags/JPEG2000.dcm"
            let folder = try environment.temporaryFolder("j2k")
            let file = folder + "/j2k.dcm"
            try FileManager.default.copyItem(atPath: source, toPath: file)
            let uid = "1.2.826.0.1.3680043.9.7777.\(TestDicomSet.freshSeed())"
            try await tool("dcmodify", ["-nb", "-i", "(0020,000d)=\(uid).1", "-i", "(0020,000e)=\(uid).2",
                                        "-i", "(0008,0018)=\(uid).3", file])
            let outcome = try await ProcessRunner.run("storescu", ["-v", "-xw", "-aec", environment.dicomAET,
                                                                    "127.0.0.1", String(environment.dicomPort), file])
            #expect(StoreSCU.successes(outcome) == 1, "\(outcome.output)")
            var id: String?
            for _ in 0..<100 where id == nil {
                id = try await instanceID(sopInstanceUID: "\(uid).3")
                if id == nil { try await Task.sleep(for: .milliseconds(100)) }
            }
            let instance = try #require(id)
            #expect(try await api.json("/instances/\(instance)/metadata?expand", as: [String: String].self)["TransferSyntax"]
                == "1.2.840.10008.1.2.4.91")
        }

        @Test("JpegTransferSyntaxAccepted false: a second gateway refuses JPEG, still takes uncompressed")
        func jpegSwitchedOff() async throws {
            let port = 14_344
            let gateway = try await environment.startGateway(port: port, aeTitle: "NOJPEG", metricsPort: 19_144,
                                                             extra: ["ORTHANC_JSON": #"{"JpegTransferSyntaxAccepted": false}"#])
            defer { kill(gateway.pid, SIGKILL) }
            let set = try await TestDicomSet.make(environment, count: 2, seed: TestDicomSet.freshSeed(), size: 32)
            let jpeg = set.folder + "/jpeg.dcm"
            try await tool("dcmcjpeg", [set.entries[0].File, jpeg])
            // storescu offers JPEG lossless and the uncompressed syntaxes (-xs): this gateway accepts only the latter,
            // and storescu cannot decompress, so nothing is sent (the main gateway keeps JPEG, above).
            let refused = try await ProcessRunner.run("storescu", ["-v", "-xs", "-aec", "NOJPEG", "127.0.0.1", String(port), jpeg])
            #expect(StoreSCU.successes(refused) == 0, "\(refused.output)")
            #expect(refused.output.contains("-> Little Endian Explicit"), "only uncompressed was accepted: \(refused.output)")
            let taken = try await ProcessRunner.run("storescu", ["-v", "-aec", "NOJPEG", "127.0.0.1", String(port), set.entries[1].File])
            #expect(StoreSCU.successes(taken) == 1, "\(taken.output)")
            #expect(try await api.waitForInstances([set.entries[1].ID]).contains(set.entries[1].ID))
            #expect(try await api.get("/instances/\(set.entries[0].ID)").status == 404)
        }
    }
}
