import Prometheus

/// The Prometheus text format of a service's `/metrics`: the registry's series with a `# HELP` line before every
/// family (from ``MetricCatalog``), then series computed at scrape time (the API's cluster-wide counts).
public enum MetricsExposition {
    /// Renders `registry` and appends `extra` (already in the text format, with its own HELP and TYPE lines).
    public static func render(_ registry: PrometheusCollectorRegistry, extra: String = "") -> String {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return addingHelp(to: String(decoding: buffer, as: UTF8.self)) + extra
    }

    /// Inserts `# HELP name text` before each `# TYPE name kind` line that has none, for the names ``MetricCatalog``
    /// describes.
    public static func addingHelp(to text: String) -> String {
        var output: [Substring] = []
        var previous: Substring = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("# TYPE "), !previous.hasPrefix("# HELP ") {
                let name = line.dropFirst("# TYPE ".count).prefix { $0 != " " }
                if let help = MetricCatalog.help[String(name)] {
                    output.append("# HELP \(name) \(help)")
                }
            }
            output.append(line)
            previous = line
        }
        return output.joined(separator: "\n")
    }

    /// One family in the text format: HELP, TYPE and its samples (`labels` already rendered, e.g. `state="Pending"`).
    public static func family(_ name: String, type: String, help: String, samples: [(labels: String, value: Double)]) -> String {
        var text = "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        for sample in samples {
            let value = sample.value.rounded() == sample.value && abs(sample.value) < 1e15
                ? String(Int64(sample.value)) : String(sample.value)
            text += sample.labels.isEmpty ? "\(name) \(value)\n" : "\(name){\(sample.labels)} \(value)\n"
        }
        return text
    }
}
