import Foundation
import Logging
import Model

/// Writes each log event as one JSON object per line on standard error (`TESSERA_LOG_FORMAT=json`), for log shippers:
/// `timestamp` (UTC, milliseconds), `level`, `logger`, `message`, then the metadata as fields (`service`, `request`,
/// `association`, ...; nested metadata as objects). Its level follows ``LogVerbosity`` as the text handler's does.
/// Tessera never puts patient data in log metadata: identifiers logged are Tessera's and DICOM UIDs.
public struct JSONLogHandler: LogHandler {
    private let label: String
    private let verbosity: LogVerbosity
    private var own: Logger.Level?
    public var metadata: Logger.Metadata = [:]

    public init(label: String, verbosity: LogVerbosity) {
        self.label = label
        self.verbosity = verbosity
    }

    public var logLevel: Logger.Level {
        get { own ?? verbosity.level }
        set { own = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?, source: String,
                    file: String, function: String, line: UInt) {
        guard own != nil || verbosity.allows(level, source: source) else { return }
        let merged = explicit.map { self.metadata.merging($0) { $1 } } ?? self.metadata
        var text = Self.line(timestamp: Date(), level: level, label: label, message: message.description, metadata: merged)
        text.append("\n")
        // One write per line: lines of concurrent tasks never interleave.
        text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = write(STDERR_FILENO, bytes.baseAddress.map { $0 + offset }, bytes.count - offset)
                if written <= 0 { return }
                offset += written
            }
        }
    }

    /// One event as a JSON object (no newline). Metadata keys that clash with the fixed fields get a `_` prefix.
    public static func line(timestamp: Date, level: Logger.Level, label: String, message: String,
                            metadata: Logger.Metadata) -> String {
        var text = "{\"timestamp\":\"\(timestampFormat.format(timestamp))\",\"level\":\"\(level.rawValue)\","
        text += "\"logger\":" + quoted(label) + ",\"message\":" + quoted(message)
        for key in metadata.keys.sorted() {
            guard let value = metadata[key] else { continue }
            let name = renamed[key] ?? (["timestamp", "level", "logger", "message"].contains(key) ? "_" + key : key)
            text += "," + quoted(name) + ":" + json(value)
        }
        return text + "}"
    }

    /// Metadata keys libraries set, under the names Tessera's lines use: Hummingbird's request ID is `request` (the
    /// `X-Request-Id` header of the answer).
    static let renamed = ["hb.request.id": "request"]

    private static let timestampFormat = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt)

    private static func json(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let text): return quoted(text)
        case .stringConvertible(let convertible): return quoted(convertible.description)
        case .array(let values): return "[" + values.map(json).joined(separator: ",") + "]"
        case .dictionary(let members):
            return "{" + members.keys.sorted().map { quoted($0) + ":" + json(members[$0] ?? "") }.joined(separator: ",") + "}"
        }
    }

    /// A JSON string literal.
    static func quoted(_ text: String) -> String {
        JSONStringLiteral.quoted(text)
    }
}
