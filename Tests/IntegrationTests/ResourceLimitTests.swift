import Foundation
import Testing

extension ClusterTests {
    /// Bounded resources: peers that connect and say nothing, trickle, or hold slots; uploads that would fill the
    /// memory; a full disk; threads made per call.
    @Suite("Bounded resources", .serialized)
    struct ResourceLimitTests {
        let environment: TestEnvironment
        let tool: HostileTool

        init() throws {
            environment = try TestEnvironment.load()
            tool = HostileTool(environment: environment)
        }

        /// The peak resident memory of a process, in MiB.
        func peakMemory(_ pid: Int32) throws -> Int {
            let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
            let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") })
            return (Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) / 1024
        }

        @Test("DICOM: idle, silent and trickling peers lose their slot within the timeouts; past the maximum, a clear refusal")
        func dicomPeers() async throws {
            let file = environment.repository + "/Tests/UnitTests/Fixtures/tags/CT_small.dcm"
            let settings = #"{"DicomThreadsCount": 2, "DicomScpTimeout": 3, "DicomOperationTimeout": 6}"#
            try await IsolatedStack.with(environment, name: "tessera_dicom_limits", apiPort: 18090, indexerMetricsPort: 19170) { stack in
                try await stack.startGateway(port: 14300, metricsPort: 19171, aeTitle: "LIMITS", extra: ["ORTHANC_JSON": settings])
                // Two associations held open: a third is refused at once, "local limit exceeded"; both held ones are
                // aborted by the server once idle for DicomScpTimeout.
                async let held = tool.run(["hold-associations", "--port", "14300", "--aet", "LIMITS", "--count", "2", "--seconds", "20"])
                // Both held associations are open (the gateway's gauge, sampled every second) before the third comes:
                // a fixed pause was too short on a loaded machine.
                let operations = RESTClient(baseURL: "http://127.0.0.1:19171")
                let openBy = ContinuousClock.now + .seconds(10)
                while ContinuousClock.now < openBy,
                      !((try? await operations.get("/metrics"))?.text.contains("tessera_dicom_associations_open 2.0") ?? false) {
                    try await Task.sleep(for: .milliseconds(100))
                }
                let start = ContinuousClock.now
                let third = try await tool.run(["store", "--port", "14300", "--aet", "LIMITS", "--files", file])
                #expect(third["association"] as? String == "rejected", "\(third)")
                #expect((third["reject"] as? [String: Any])?["reason"] as? Int == 2, "local limit exceeded: \(third)")
                #expect(ContinuousClock.now - start < .seconds(3))
                let holding = try await held
                #expect(holding["accepted"] as? Int == 2, "\(holding)")
                let aborted = holding["aborted_by_server_after"] as? [Double] ?? []
                #expect(aborted.count == 2 && aborted.allSatisfy { $0 < 8 }, "idle associations end after DicomScpTimeout: \(holding)")
                let after = try await tool.run(["store", "--port", "14300", "--aet", "LIMITS", "--files", file])
                #expect((after["statuses"] as? [Int]) == [0], "slots are free again: \(after)")

                // Twenty connections that never speak do not hold anyone back, and are closed after the ARTIM timeout.
                async let silent = tool.run(["silent-tcp", "--port", "14300", "--count", "20", "--seconds", "15"])
                try await Task.sleep(for: .milliseconds(500))
                let meanwhile = ContinuousClock.now
                let served = try await tool.run(["store", "--port", "14300", "--aet", "LIMITS", "--files", file])
                #expect((served["statuses"] as? [Int]) == [0], "\(served)")
                #expect(ContinuousClock.now - meanwhile < .seconds(3), "not queued behind silent peers")
                let quiet = try await silent
                #expect(quiet["closed_by_server"] as? Int == 20, "\(quiet)")
                #expect((quiet["closed_after"] as? [Double] ?? []).allSatisfy { $0 < 8 }, "\(quiet)")

                // One host opening a hundred silent connections holds at most a quarter of the handshake slots (64 of
                // 256): the rest are closed at once, and another host is served meanwhile.
                async let flood = tool.run(["silent-tcp", "--port", "14300", "--count", "100", "--seconds", "12",
                                            "--source", "127.0.0.2"])
                try await Task.sleep(for: .milliseconds(1_500))
                let beside = ContinuousClock.now
                let other = try await tool.run(["store", "--port", "14300", "--aet", "LIMITS", "--files", file])
                #expect((other["statuses"] as? [Int]) == [0], "\(other)")
                #expect(ContinuousClock.now - beside < .seconds(3))
                let flooded = try await flood
                let closedAfter = flooded["closed_after"] as? [Double] ?? []
                #expect(closedAfter.filter { $0 < 2 }.count == 36, "past 64 from one host, closed at once: \(flooded)")
                #expect(flooded["closed_by_server"] as? Int == 100, "the others after the ARTIM timeout: \(flooded)")

                // Connections reset the moment they are accepted leave no file descriptor behind.
                let gateway = try #require(stack.pid(of: "gateway"))
                let descriptorsBefore = try openDescriptors(gateway)
                let resets = try await tool.run(["reset-tcp", "--port", "14300", "--count", "400"])
                #expect(resets["reset"] as? Int == 400, "\(resets)")
                try await Task.sleep(for: .seconds(2))
                let descriptorsAfter = try openDescriptors(gateway)
                #expect(descriptorsAfter - descriptorsBefore < 20, "descriptors: \(descriptorsBefore) before, \(descriptorsAfter) after")
                let afterResets = try await tool.run(["store", "--port", "14300", "--aet", "LIMITS", "--files", file])
                #expect((afterResets["statuses"] as? [Int]) == [0], "\(afterResets)")

                // A peer trickling its association request, and one trickling a C-STORE, are cut off.
                let request = try await tool.run(["trickle-association", "--port", "14300", "--aet", "LIMITS", "--interval", "1",
                                                  "--max-seconds", "30"])
                #expect(request["closed_by_server"] as? Bool == true && (request["closed_after"] as? Double ?? 99) < 8, "\(request)")
                let store = try await tool.run(["trickle-store", "--port", "14300", "--aet", "LIMITS", "--file", file,
                                                "--interval", "1", "--max-seconds", "40"])
                #expect(store["closed_by_server"] as? Bool == true && (store["closed_after"] as? Double ?? 99) < 12, "\(store)")
                #expect(try await RESTClient(baseURL: "http://127.0.0.1:19171").get("/health").status == 200)
            }
        }

        @Test("HTTP: half-sent requests are closed after HttpRequestTimeout while other clients are served")
        func halfOpenHTTP() async throws {
            try await IsolatedStack.with(environment, name: "tessera_http_limits", apiPort: 18091, indexerMetricsPort: 19172,
                                         json: #"{"HttpRequestTimeout": 3}"#) { stack in
                async let flood = tool.run(["half-http", "--port", "18091", "--count", "1000", "--seconds", "12"])
                try await Task.sleep(for: .seconds(1))
                #expect(try await stack.api.get("/system").status == 200, "served during the flood")
                let result = try await flood
                #expect(result["opened"] as? Int == 1000, "\(result)")
                #expect(result["closed_by_server"] as? Int == 1000, "\(result)")
                #expect((result["closed_after"] as? [Double] ?? []).allSatisfy { $0 < 8 }, "\(result)")
            }
        }

        @Test("Four concurrent 150 MB uploads are streamed to disk: the API's memory stays small")
        func streamedUploads() async throws {
            let big = try await tool.make("big", ["--mb", "150"])
            try await IsolatedStack.with(environment, name: "tessera_streamed", apiPort: 18092, indexerMetricsPort: 19173) { stack in
                let uploads = try await tool.run(["concurrent-uploads", "--url", "http://127.0.0.1:18092/instances", "--file", big,
                                                  "--count", "4"])
                #expect((uploads["statuses"] as? [Int])?.allSatisfy { $0 == 200 } == true, "\(uploads)")
                let pid = try #require(stack.pid(of: "api"))
                let peak = try peakMemory(pid)
                #expect(peak < 350, "peak resident memory \(peak) MiB for 600 MB uploaded")
            }
        }

        @Test("A full disk: C-STORE 0xA700 and upload 507, with no incoming file left behind",
              .enabled(if: canMountTmpfs, "needs the right to mount a small tmpfs (root with CAP_SYS_ADMIN)"))
        func fullDisk() async throws {
            let mountPoint = try environment.temporaryFolder("full-disk")
            let mounted = try await ProcessRunner.run("mount", ["-t", "tmpfs", "-o", "size=3m", "tmpfs", mountPoint])
            try #require(mounted.status == 0, "this test needs to mount a small tmpfs: \(mounted.output)")
            defer { _ = try? FileManager.default.removeItem(atPath: mountPoint) }
            let big = try await tool.make("big", ["--mb", "5"])
            do {
                try await IsolatedStack.with(environment, name: "tessera_full_disk", apiPort: 18093, indexerMetricsPort: 19174,
                                             extra: ["TESSERA_STORAGE_DIR": mountPoint + "/storage"]) { stack in
                    try await stack.startGateway(port: 14301, metricsPort: 19175, aeTitle: "FULL")
                    let upload = try await stack.api.post("/instances", body: [UInt8](try Data(contentsOf: URL(fileURLWithPath: big))))
                    #expect(upload.status == 507, "\(String(decoding: upload.body, as: UTF8.self))")
                    #expect((try upload.json() as? [String: Any])?["OrthancStatus"] as? Int == 19)
                    let stored = try await tool.run(["store", "--port", "14301", "--aet", "FULL", "--files", big])
                    #expect((stored["statuses"] as? [Int]) == [0xA700], "\(stored)")
                    #expect(try FileManager.default.contentsOfDirectory(atPath: mountPoint + "/storage/.incoming").isEmpty)
                    let small = environment.repository + "/Tests/UnitTests/Fixtures/tags/CT_small.dcm"
                    #expect((try await tool.run(["store", "--port", "14301", "--aet", "FULL", "--files", small])["statuses"] as? [Int]) == [0],
                            "what fits is still stored")
                }
            } catch {
                _ = try? await ProcessRunner.run("umount", [mountPoint])
                throw error
            }
            _ = try await ProcessRunner.run("umount", [mountPoint])
        }

        @Test("Each Kafka client keeps one long-lived thread: an idle indexer creates no thread per poll")
        func kafkaThreads() async throws {
            let pid = try environment.pid(of: "indexer")
            func threads() throws -> Set<String> {
                Set(try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task"))
            }
            // Two windows of ten polls (500 ms) each: a thread per poll shows in both; a pool thread started once by the
            // other suites' traffic on the shared cluster (seen in CI-like runs) shows in one at most.
            let before = try threads()
            try await Task.sleep(for: .seconds(5))
            let middle = try threads()
            try await Task.sleep(for: .seconds(5))
            let after = try threads()
            let first = middle.subtracting(before).count, second = after.subtracting(middle).count
            #expect(first == 0 || second == 0, "threads created while idle: \(first), then \(second)")
            #expect(max(first, second) <= 2, "threads created while idle: \(first), then \(second)")
        }
    }
}

/// How many file descriptors a process has open.
func openDescriptors(_ pid: Int32) throws -> Int {
    try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count
}

/// Whether this process may mount a tmpfs (probed once: mounted on a scratch folder and unmounted at once).
let canMountTmpfs: Bool = {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-mount-probe-\(UUID().uuidString)").path
    guard (try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)) != nil else { return false }
    defer { try? FileManager.default.removeItem(atPath: folder) }
    func run(_ arguments: [String]) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }
    guard run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", folder]) else { return false }
    _ = run(["umount", folder])
    return true
}()
