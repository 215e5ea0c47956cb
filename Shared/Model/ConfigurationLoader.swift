import Foundation

/// Reads Tessera's configuration as Orthanc does: one JSON file, or every `.json` file of a folder, with `//` and
/// `/* */` comments and `${VAR}` / `${VAR:-default}` environment references allowed (Orthanc 1.5); then the
/// environment conventions of the Orthanc Docker images: `ORTHANC_JSON='{...}'`, `ORTHANC__DICOM_AET=X` (values parsed
/// as JSON when they are JSON), `*_SECRET` variables naming a file under `/run/secrets` whose content is the value of
/// the variable without the suffix, and secret files named `ORTHANC__...`; finally Tessera's own `TESSERA_...`
/// variables (which `*_SECRET` can give too).
public struct ConfigurationLoader: Sendable {
    public var environment: [String: String]
    /// Where `*_SECRET` names files (Docker's secrets folder).
    public var secretsDirectory: String

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
        self.secretsDirectory = environment["TESSERA_SECRETS_DIR"] ?? "/run/secrets"
    }

    /// Loads the configuration named by `TESSERA_CONFIG` (file or folder; none means defaults) and applies overrides.
    public func load() throws(TesseraError) -> TesseraConfiguration {
        let environment = try resolvedEnvironment()
        var document = JSONValue.object([:])
        if let path = environment["TESSERA_CONFIG"], !path.isEmpty {
            document = document.merging(try Self.readPath(path, environment: environment))
        }
        if let inline = environment["ORTHANC_JSON"], !inline.isEmpty {
            document = document.merging(try Self.parseDocument(Data(inline.utf8), source: "ORTHANC_JSON"))
        }
        for (name, value) in environment.sorted(by: { $0.key < $1.key }) where name.hasPrefix("ORTHANC__") {
            let path = Self.orthancPath(name)
            document = document.merging(Self.nested(path, Self.environmentValue(value)))
        }
        return try TesseraConfiguration(document: document, environment: environment)
    }

    /// The environment with the secrets applied: `NAME_SECRET=file` sets `NAME` to the content of `file` (a name under
    /// ``secretsDirectory``, or an absolute path), trailing newlines removed, as the Orthanc images do; a file of the
    /// secrets folder named `ORTHANC__...` sets that variable. Secrets win over plain variables. A secret that cannot
    /// be read is a configuration error (never a silently missing password).
    public func resolvedEnvironment() throws(TesseraError) -> [String: String] {
        var resolved = environment
        let direct = (try? FileManager.default.contentsOfDirectory(atPath: secretsDirectory)) ?? []
        for name in direct.sorted() where name.hasPrefix("ORTHANC__") {
            resolved[name] = try readSecret(secretsDirectory + "/" + name, for: name)
        }
        for (name, file) in environment.sorted(by: { $0.key < $1.key }) where name.hasSuffix("_SECRET") && name.count > 7 {
            let target = String(name.dropLast("_SECRET".count))
            let path = file.hasPrefix("/") ? file : secretsDirectory + "/" + file
            resolved[target] = try readSecret(path, for: name)
        }
        return resolved
    }

    private func readSecret(_ path: String, for name: String) throws(TesseraError) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TesseraError(.inexistentFile, message: "Cannot read a secret", details: "\(name): \(path)")
        }
        var text = String(decoding: data, as: UTF8.self)
        while text.hasSuffix("\n") { text.removeLast() }
        return text
    }

    /// `${VAR}`, `${VAR:-default}`, `${VAR:-"default"}` and `${VAR:-'default'}` replaced in a configuration file's
    /// text, before it is parsed (Orthanc's `Toolbox::SubstituteVariables`): an unset variable gives its default, else
    /// nothing; a set one (even empty) its value. Other `$` text is left alone.
    public static func substituteVariables(_ text: String, environment: [String: String]) -> String {
        var output = ""
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            output += rest[..<start.lowerBound]
            let body = rest[start.upperBound...]
            guard let close = body.firstIndex(of: "}") else {
                output += rest[start.lowerBound...]
                return output
            }
            let inner = body[..<close]
            let name: Substring
            var fallback: Substring = ""
            if let separator = inner.range(of: ":-") {
                name = inner[..<separator.lowerBound]
                fallback = inner[separator.upperBound...]
                if fallback.count >= 2, let first = fallback.first, first == "\"" || first == "'", fallback.last == first {
                    fallback = fallback.dropFirst().dropLast()
                }
            } else {
                name = inner
            }
            if name.contains(":") {
                // `${VAR:x}`: not one of Orthanc's forms, left as it is.
                output += rest[start.lowerBound...close]
            } else {
                output += environment[String(name)] ?? String(fallback)
            }
            rest = body[body.index(after: close)...]
        }
        return output + rest
    }

    /// Parses a file, or merges every `.json` file of a folder in name order.
    public static func readPath(_ path: String, environment: [String: String] = [:]) throws(TesseraError) -> JSONValue {
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
            let text = substituteVariables(String(decoding: data, as: UTF8.self), environment: environment)
            document = document.merging(try parseDocument(Data(text.utf8), source: file))
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

    /// The configuration path of an `ORTHANC__A__B_C` variable: `A` / `BC` as ``orthancKey(_:)`` converts each level,
    /// except the names the Orthanc images list as non-standard (`ORTHANC__POSTGRESQL` → `PostgreSQL`, ...).
    public static func orthancPath(_ name: String) -> [String] {
        name.dropFirst("ORTHANC__".count).components(separatedBy: "__").map { nonStandardKeys[$0] ?? orthancKey($0) }
    }

    /// Settings whose names have consecutive capitals, from the Orthanc images' `env-var-non-standards.json`.
    static let nonStandardKeys: [String: String] = [
        "POSTGRESQL": "PostgreSQL",
        "CASE_SENSITIVE_PN": "CaseSensitivePN",
        "HTTPS_CA_CERTIFICATES": "HttpsCACertificates",
        "STORE_MD5_FOR_ATTACHMENTS": "StoreMD5ForAttachments",
    ]

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
