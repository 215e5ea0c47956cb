import Foundation

/// Splits a `multipart/form-data` body (RFC 7578) into its parts as the body arrives, chunk by chunk, without holding
/// more than a chunk and a delimiter in memory: `POST /instances` stores each part as if it had been posted alone, as
/// Orthanc does for the uploads of browsers and `curl -F`.
public struct MultipartSplitter {
    /// What a chunk revealed, in order.
    public enum Event: Equatable, Sendable {
        /// A part starts; its header lines (Content-Disposition, Content-Type...), as text.
        case begin(headers: String)
        /// Bytes of the current part's content.
        case data([UInt8])
        /// The current part ended.
        case end
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    private enum State {
        case preamble, afterDelimiter, headers, body, done
    }

    /// CRLF, `--` and the boundary: what ends a part's content.
    private let delimiter: [UInt8]
    private var buffer: [UInt8]
    private var state = State.preamble
    /// Longest header block accepted.
    static let maximumHeaders = 16 << 10

    public init(boundary: String) {
        delimiter = Array("\r\n--\(boundary)".utf8)
        // The first delimiter may start the body without the CRLF before it.
        buffer = Array("\r\n".utf8)
    }

    /// The boundary of a `multipart/form-data; boundary=...` content type (quoted or not); nil for another type.
    public static func boundary(contentType: String?) -> String? {
        guard let contentType else { return nil }
        let parts = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.first?.lowercased() == "multipart/form-data" else { return nil }
        for parameter in parts.dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2, pair[0].lowercased() == "boundary" else { continue }
            var value = pair[1]
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            // RFC 2046: 1 to 70 characters.
            return (1...70).contains(value.utf8.count) ? value : nil
        }
        return nil
    }

    /// Whether the closing delimiter was seen.
    public var isComplete: Bool {
        if case .done = state { return true }
        return false
    }

    /// Feeds the next bytes of the body.
    public mutating func feed(_ chunk: some Sequence<UInt8>) throws(Failure) -> [Event] {
        if case .done = state { return [] }  // the epilogue is ignored
        buffer.append(contentsOf: chunk)
        var events: [Event] = []
        while true {
            switch state {
            case .preamble:
                guard let found = Self.find(delimiter, in: buffer) else {
                    buffer.removeFirst(max(0, buffer.count - (delimiter.count - 1)))
                    return events
                }
                buffer.removeFirst(found + delimiter.count)
                state = .afterDelimiter
            case .afterDelimiter:
                // `--` closes the body; else padding and CRLF start a part.
                guard buffer.count >= 2 else { return events }
                if buffer[0] == UInt8(ascii: "-"), buffer[1] == UInt8(ascii: "-") {
                    state = .done
                    buffer = []
                    return events
                }
                guard let lineEnd = Self.find(Array("\r\n".utf8), in: buffer) else {
                    if buffer.count > 1024 { throw Failure(description: "malformed multipart delimiter line") }
                    return events
                }
                guard buffer[..<lineEnd].allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) else {
                    throw Failure(description: "malformed multipart delimiter line")
                }
                buffer.removeFirst(lineEnd + 2)
                state = .headers
            case .headers:
                if buffer.starts(with: Array("\r\n".utf8)) {
                    // A part without header lines.
                    buffer.removeFirst(2)
                    events.append(.begin(headers: ""))
                    state = .body
                    continue
                }
                guard let end = Self.find(Array("\r\n\r\n".utf8), in: buffer) else {
                    if buffer.count > Self.maximumHeaders { throw Failure(description: "multipart part headers too long") }
                    return events
                }
                events.append(.begin(headers: String(decoding: buffer[..<end], as: UTF8.self)))
                buffer.removeFirst(end + 4)
                state = .body
            case .body:
                guard let found = Self.find(delimiter, in: buffer) else {
                    let keep = delimiter.count - 1
                    if buffer.count > keep {
                        events.append(.data(Array(buffer[..<(buffer.count - keep)])))
                        buffer.removeFirst(buffer.count - keep)
                    }
                    return events
                }
                if found > 0 { events.append(.data(Array(buffer[..<found]))) }
                events.append(.end)
                buffer.removeFirst(found + delimiter.count)
                state = .afterDelimiter
            case .done:
                return events
            }
        }
    }

    /// The first index of `needle` in `haystack`.
    static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard let first = needle.first, haystack.count >= needle.count else { return nil }
        var index = 0
        let last = haystack.count - needle.count
        while index <= last {
            guard let candidate = haystack[index...last].firstIndex(of: first) else { return nil }
            if haystack[candidate..<(candidate + needle.count)].elementsEqual(needle) { return candidate }
            index = candidate + 1
        }
        return nil
    }
}
