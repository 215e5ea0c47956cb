import Foundation
import Logging
import Model
@testable import ServiceKit
import Testing

@Suite("Metrics, logs and the command line")
struct ObservabilityTests {
    @Test("Hummingbird's HTTP metrics get Prometheus names and plain label names")
    func naming() {
        let (name, labels) = MetricNaming.sanitize("hb.requests", [("http.route", "/instances/{id}"), ("http.request.method", "GET"),
                                                                  ("http.response.status_code", "200")])
        #expect(name == "tessera_http_requests_total")
        #expect(labels.map(\.0) == ["route", "method", "status"])
        #expect(MetricNaming.sanitize("http.server.request.duration", []).0 == "tessera_http_request_duration_seconds")
        #expect(MetricNaming.sanitize("tessera_ingest_instances_total", []).0 == "tessera_ingest_instances_total")
    }

    @Test("HELP lines are added before TYPE lines of known families, once")
    func help() {
        let text = "# TYPE tessera_dead_letters gauge\ntessera_dead_letters 0\n# TYPE unknown_metric gauge\nunknown_metric 1\n"
        let rendered = MetricsExposition.addingHelp(to: text)
        #expect(rendered.hasPrefix("# HELP tessera_dead_letters Dead letters kept"))
        #expect(!rendered.contains("# HELP unknown_metric"))
        #expect(MetricsExposition.addingHelp(to: rendered) == rendered)
        for (name, text) in MetricCatalog.help {
            #expect(!text.isEmpty && !text.contains("\n"), "\(name)")
            #expect(name.hasPrefix("tessera_"), "\(name)")
        }
    }

    @Test("Orthanc's format: name value timestamp, sorted; integers without a fraction; jobs summed as Orthanc does")
    func orthancFormat() {
        let statistics = ClusterStatistics(patients: 1, studies: 2, series: 3, instances: 40, diskSize: 3 * 1_048_576 / 2,
                                           jobs: [.pending: 1, .retry: 2, .running: 1, .paused: 1, .success: 5, .failure: 1],
                                           lastChange: 77, deadLetters: 0)
        let text = OrthancMetricsExposition.orthancText(OrthancMetricsExposition.cluster(statistics, now: 1_700_000_000_123))
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines == lines.sorted())
        #expect(lines.contains("orthanc_count_instances 40 1700000000123"))
        #expect(lines.contains("orthanc_disk_size_mb 1.5 1700000000123"))
        #expect(lines.contains("orthanc_jobs_pending 3 1700000000123"))
        #expect(lines.contains("orthanc_jobs_running 2 1700000000123"))
        #expect(lines.contains("orthanc_jobs_completed 6 1700000000123"))
        #expect(lines.contains("orthanc_last_change 77 1700000000123"))
        let prometheus = OrthancMetricsExposition.prometheusText(OrthancMetricsExposition.cluster(statistics), jobs: statistics.jobs)
        #expect(prometheus.contains("# TYPE orthanc_count_instances gauge\northanc_count_instances 40\n"))
        #expect(prometheus.contains("tessera_jobs{state=\"Retry\"} 2\n"))
    }

    @Test("The largest value over 10 s, replaced once older, as Orthanc's MaxOver10Seconds")
    func windowedMaximum() {
        let metric = WindowedMaximum()
        #expect(metric.sample == nil)
        metric.record(5, now: 1_000)
        metric.record(3, now: 2_000)
        #expect(metric.sample == .init(value: 5, timestampMilliseconds: 1_000))
        metric.record(9, now: 3_000)
        #expect(metric.sample?.value == 9)
        metric.record(1, now: 13_500)
        #expect(metric.sample == .init(value: 1, timestampMilliseconds: 13_500))
    }

    @Test("Command line: --help, --version, a configuration path, commands, refusals")
    func commandLine() {
        let usage = CommandLineOptions.Usage(executable: "tessera-indexer", summary: "Indexer.", commands: [("migrate", "m"), ("scrub", "s")])
        #expect(CommandLineOptions.parse([], usage: usage) == .run(configuration: nil, command: nil))
        #expect(CommandLineOptions.parse(["/etc/tessera"], usage: usage) == .run(configuration: "/etc/tessera", command: nil))
        #expect(CommandLineOptions.parse(["migrate", "/etc/t.json"], usage: usage) == .run(configuration: "/etc/t.json", command: "migrate"))
        guard case .help(let text) = CommandLineOptions.parse(["--help"], usage: usage) else { Issue.record("no help"); return }
        #expect(text.contains("Usage: tessera-indexer") && text.contains("migrate"))
        guard case .version(let version) = CommandLineOptions.parse(["x", "--version"], usage: usage) else { Issue.record("no version"); return }
        #expect(version.hasPrefix("tessera-indexer \(TesseraVersion.tessera) "))
        guard case .invalid = CommandLineOptions.parse(["--verbose"], usage: usage) else { Issue.record("accepted an unknown option"); return }
        guard case .invalid = CommandLineOptions.parse(["a", "b"], usage: usage) else { Issue.record("accepted two paths"); return }
    }

    @Test("JSON log lines: one object, metadata as fields, escapes, clashing keys prefixed")
    func jsonLogs() throws {
        let line = JSONLogHandler.line(timestamp: Date(timeIntervalSince1970: 0), level: .warning, label: "tessera.api",
                                       message: "Refused \"x\"\n", metadata: ["request": "42", "level": "y", "nested": ["a": ["1", "2"]]])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["timestamp"] as? String == "1970-01-01T00:00:00.000Z")
        #expect(object["level"] as? String == "warning")
        #expect(object["logger"] as? String == "tessera.api")
        #expect(object["message"] as? String == "Refused \"x\"\n")
        #expect(object["request"] as? String == "42")
        #expect(object["_level"] as? String == "y")
        #expect((object["nested"] as? [String: Any])?["a"] as? [String] == ["1", "2"])
        #expect(!line.contains("\n"))
    }

    @Test("Log categories: each module's events follow its category's verbosity, else the overall one")
    func logCategories() {
        let verbosity = LogVerbosity()
        verbosity.configure(.info)
        #expect(verbosity.level == .info)
        #expect(!verbosity.allows(.debug, source: "DICOM"))
        verbosity.apply(["": "default", "dicom": "trace", "http": "verbose"])
        #expect(verbosity.level == .trace)  // loggers let everything through to the handler, which filters
        #expect(verbosity.allows(.trace, source: "QueryRetrieve"))
        #expect(verbosity.allows(.debug, source: "Hummingbird"))
        #expect(!verbosity.allows(.trace, source: "tessera_api"))
        #expect(!verbosity.allows(.debug, source: "Jobs"))
        #expect(!verbosity.allows(.debug, source: "Indexing"))
        #expect(verbosity.allows(.info, source: "Indexing"))
        verbosity.apply(["": "verbose"])
        #expect(verbosity.level == .debug)
        #expect(verbosity.allows(.debug, source: "PostgresNIO"))
        #expect(LogVerbosity.category(ofSource: "Index") == "sqlite")
        #expect(LogVerbosity.category(ofSource: "Jobs") == "jobs")
        #expect(LogVerbosity.category(ofSource: "ServiceKit") == "generic")
        // A logger whose level was set on its own keeps it.
        var handler = VerbosityLogHandler(label: "x", verbosity: verbosity)
        handler.logLevel = .error
        #expect(handler.logLevel == .error)
    }
}

@Suite("Readiness probes")
struct ReadinessProbeTests {
    @Test("A LISTEN socket in the kernel's table is found by its port; other states are not")
    func listeningPorts() throws {
        let table = """
              sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
               0: 0100007F:108E 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0
               1: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0 100 0 0 10 0
            """
        #expect(ListeningPorts.listening(in: table) == [4238])
        // This process's own listening socket, through /proc.
        let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(server) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(server, $0, length) == 0 && getsockname(server, $0, &length) == 0 }
        }
        #expect(bound)
        let port = Int(UInt16(bigEndian: address.sin_port))
        #expect(!ListeningPorts.isListening(port))
        #expect(listen(server, 1) == 0)
        #expect(ListeningPorts.isListening(port))
    }
}
