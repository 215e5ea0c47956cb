import Foundation

/// Reads Tessera's configuration as Orthanc does: one JSON file, or every `.json` file of a folder,
/// with `//` and `/* */` comments allowed; then the environment overrides of the Orthanc Docker images
/// (`ORTHANC_JSON='{...}'`, `ORTHANC__DICOM_AET=X`) and Tessera's own `TESSERA_...` variables.
public struct ConfigurationLoader: Sendable {
    public var environment: [String: String]

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    /// Loads the configuration named by `TESSERA_CONFIG` (file or folder; none means defaults) and applies overrides.
    public func load() throws(TesseraError) -> TesseraConfiguration {
        var document = JSONValue.object([:])
        if let path = environment["TESSERA_CONFIG"], !path.isEmpty {
            document = document.merging(try Self.readPath(path))
        }
        if let inline = environment["ORTHANC_JSON"], !inline.isEmpty {
            document = document.merging(try Self.parseDocument(Data(inline.utf8), source: "ORTHANC_JSON"))
        }
        for (name, value) in environment.sorted(by: { $0.key < $1.key }) where name.hasPrefix("ORTHANC__") {
            let path = name.dropFirst("ORTHANC__".count).components(separatedBy: "__").map(Self.orthancKey)
            document = document.merging(Self.nested(path, Self.environmentValue(value)))
        }
        return try TesseraConfiguration(document: document, environment: environment)
    }

    /// Parses a file, or merges every `.json` file of a folder in name order.
    public static func readPath(_ path: String) throws(TesseraError) -> JSONValue {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw TesseraError(.inexistentFile, message: "Configuration not found", details: path)
        }
        let files: [String]
        if isDirectory.boolValue {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            files = names.filter { $0.hasSuffix(".json") }.sorted().map { "\(path)/\($0)" }
        } else {
            files = [path]
        }
        var document = JSONValue.object([:])
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw TesseraError(.inexistentFile, message: "Cannot read configuration", details: file)
            }
            document = document.merging(try parseDocument(data, source: file))
        }
        return document
    }

    /// Parses one JSON document that may contain comments; the top level must be an object.
    public static func parseDocument(_ data: Data, source: String) throws(TesseraError) -> JSONValue {
        let value: JSONValue
        do {
            value = try JSONValue.parse(Data(stripComments(Array(data))))
        } catch {
            throw TesseraError(.badJson, message: "Bad configuration file", details: "\(source): \(error.details ?? error.message)")
        }
        guard case .object = value else {
            throw TesseraError(.badJson, message: "Bad configuration file", details: "\(source): the top level must be an object")
        }
        return value
    }

    /// Removes `//` line comments and `/* */` block comments outside of strings.
    public static func stripComments(_ input: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(input.count)
        var index = 0
        var inString = false
        while index < input.count {
            let byte = input[index]
            let next: UInt8? = index + 1 < input.count ? input[index + 1] : nil
            if inString {
                output.append(byte)
                if byte == UInt8(ascii: "\\"), let escaped = next {
                    output.append(escaped)
                    index += 2
                    continue
                }
                if byte == UInt8(ascii: "\"") { inString = false }
                index += 1
            } else if byte == UInt8(ascii: "\"") {
                inString = true
                output.append(byte)
                index += 1
            } else if byte == UInt8(ascii: "/"), next == UInt8(ascii: "/") {
                while index < input.count, input[index] != UInt8(ascii: "\n") { index += 1 }
            } else if byte == UInt8(ascii: "/"), next == UInt8(ascii: "*") {
                index += 2
                while index < input.count, !(input[index] == UInt8(ascii: "*") && index + 1 < input.count && input[index + 1] == UInt8(ascii: "/")) {
                    index += 1
                }
                index += 2
                output.append(UInt8(ascii: " "))
            } else {
                output.append(byte)
                index += 1
            }
        }
        return output
    }

    /// `DICOM_AET` → `DicomAet`, as the Orthanc Docker images convert environment names.
    public static func orthancKey(_ snake: String) -> String {
        snake.split(separator: "_").map { word in
            word.prefix(1).uppercased() + word.dropFirst().lowercased()
        }.joined()
    }

    /// An environment value: JSON when it parses as JSON (numbers, booleans, objects), otherwise the string itself.
    static func environmentValue(_ text: String) -> JSONValue {
        if let value = try? JSONValue.parse(Data(text.utf8)) { return value }
        return .string(text)
    }

    static func nested(_ path: [String], _ value: JSONValue) -> JSONValue {
        path.reversed().reduce(value) { inner, key in .object([key: inner]) }
    }
}
