import DICOM
import Foundation
import Hummingbird
import Index
import Model
import ServiceKit

/// Orthanc's small system tools: `/tools/generate-uid`, `/tools/now`, `/tools/now-local`, `/tools/default-encoding`,
/// `/tools/log-level` (and per category), `/tools/metrics`, `/tools/metrics-prometheus` and `/tools/dicom-conformance`,
/// answered in plain text as
/// Orthanc answers them.
struct SystemToolRoutes {
    let configuration: TesseraConfiguration
    /// The log verbosity the cluster keeps (`/tools/log-level`).
    let logLevels: LogLevelStore
    /// The index, for the cluster-wide gauges of `/tools/metrics-prometheus`.
    let database: IndexDatabase
    /// DefaultEncoding and the metrics switch as the cluster keeps them.
    var settings: ScpSettingsStore { ScpSettingsStore(database: database) }

    func add(to router: Router<APIRequestContext>) {
        // A missing or unknown level answers 404 with no body, as Orthanc.
        router.get("/tools/generate-uid") { request, _ in
            guard let level = request.uri.queryParameters["level"].flatMap({ Self.level(String($0)) }) else {
                return Response(status: .notFound)
            }
            let identifier = level == .patient ? UUID().uuidString.lowercased() : DicomUID.generate(for: level)
            return Self.text(identifier)
        }
        router.get("/tools/now") { _, _ in Self.text(Self.now(in: TimeZone(identifier: "UTC") ?? .current)) }
        router.get("/tools/now-local") { _, _ in Self.text(Self.now(in: .current)) }
        // DefaultEncoding for the whole cluster: kept in the index, applied by every service within a few seconds (this
        // one at once). It reads text of files that declare no character set, and writes text into them.
        router.get("/tools/default-encoding") { _, _ in
            Self.text(try await settings.current().defaultEncoding ?? configuration.defaultEncoding)
        }
        router.put("/tools/default-encoding") { request, context in
            var request = request
            let wanted = String(buffer: try await request.collectBody(upTo: 1024)).trimmingCharacters(in: .whitespacesAndNewlines)
            guard DicomEncoding.specificCharacterSet(of: wanted) != nil else {
                throw TesseraError(.parameterOutOfRange, details: "Unknown encoding: \(wanted)")
            }
            try await settings.setDefaultEncoding(wanted)
            DefaultEncoding.shared.set(wanted)
            context.logger.info("DefaultEncoding changed", metadata: ["encoding": "\(wanted)"])
            return Self.text(wanted)
        }
        // Orthanc's verbosity, for the whole cluster: every process applies what is stored within a few seconds (this
        // one at once).
        // As Orthanc, the overall level reads as the most verbose of all (a category set to trace makes it trace).
        router.get("/tools/log-level") { _, _ in
            let ranks = try await logLevels.current().values.compactMap { LogVerbosity.names.firstIndex(of: $0) }
            return Self.text(LogVerbosity.names[ranks.max() ?? 0])
        }
        router.put("/tools/log-level") { request, _ in try await setLogLevel(request, category: nil) }
        for category in LogVerbosity.categories {
            router.get(RouterPath("/tools/log-level-\(category)")) { _, _ in Self.text(try await logLevels.current()[category] ?? "default") }
            router.put(RouterPath("/tools/log-level-\(category)")) { request, _ in try await setLogLevel(request, category: category) }
        }
        router.get("/tools/metrics") { _, _ in Self.text(try await settings.current().metricsEnabled ?? true ? "1" : "0") }
        // Tessera's DICOM conformance statement (plain text, Orthanc's layout).
        let conformance = ConformanceStatement.text()
        router.get("/tools/dicom-conformance") { _, _ in Self.text(conformance) }
        MethodNotAllowed.register(["/tools/dicom-conformance"], on: router, allowed: [.get])
        // Orthanc's metrics in Orthanc's format (each line `name value timestamp-ms`, no TYPE lines), so that Orthanc
        // dashboards and Orthanc Explorer 2 read them unchanged. Cluster-wide gauges plus this replica's own figures.
        router.get("/tools/metrics-prometheus") { _, _ in
            // Switched off (PUT /tools/metrics 0): an empty page, as Orthanc. The operations ports' /metrics stay.
            guard try await settings.current().metricsEnabled ?? true else {
                return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"])
            }
            let statistics = try await ClusterStatistics.read(from: database)
            let text = OrthancMetricsExposition.orthancText(
                OrthancMetricsExposition.cluster(statistics) + OrthancMetricsExposition.process(includeREST: true))
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                            body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        router.put("/tools/metrics") { request, _ in
            var request = request
            let value = String(buffer: try await request.collectBody(upTo: 1024)).trimmingCharacters(in: .whitespacesAndNewlines)
            let enabled: Bool
            switch value.lowercased() {
            case "1", "true": enabled = true
            case "0", "false": enabled = false
            default: throw TesseraError(.badFileFormat, details: "Boolean value expected")
            }
            // For the whole cluster, as the index keeps it.
            try await settings.setMetricsEnabled(enabled)
            return Response(status: .ok, headers: [.contentType: "text/plain"])
        }
    }

    private func setLogLevel(_ request: Request, category: String?) async throws -> Response {
        var request = request
        let wanted = String(buffer: try await request.collectBody(upTo: 1024))
        guard LogVerbosity.names.contains(wanted) else {
            throw TesseraError(.parameterOutOfRange, details: "Verbosity can be \"default\", \"verbose\" or \"trace\": \(wanted)")
        }
        try await logLevels.set(wanted, category: category, categories: LogVerbosity.categories)
        LogVerbosity.shared.apply(try await logLevels.current())
        return Response(status: .ok, headers: [.contentType: "text/plain"])
    }

    static func level(_ text: String) -> ResourceLevel? {
        switch text {
        case "patient": .patient
        case "study": .study
        case "series": .series
        case "instance": .instance
        default: nil
        }
    }

    /// Orthanc's ISO form without separators: `20261130T051812`.
    static func now(in zone: TimeZone) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: Date())
        let number: (Int?, Int) -> String = { value, width in
            let text = String(value ?? 0)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return number(parts.year, 4) + number(parts.month, 2) + number(parts.day, 2) + "T"
            + number(parts.hour, 2) + number(parts.minute, 2) + number(parts.second, 2)
    }

    static func text(_ value: String) -> Response {
        Response(status: .ok, headers: [.contentType: "text/plain"], body: ResponseBody(byteBuffer: ByteBuffer(string: value)))
    }
}
