import Foundation
import Synchronization

/// The name of a blob in the shared store (Orthanc's `FileUuid`): a UUID in canonical lower-case form, never a path.
///
/// New blobs get a version-7 UUID (RFC 9562): its first 48 bits are the creation time in milliseconds and, within a
/// millisecond, the next 12 bits count up in this process, so IDs sort in the order the blobs were written. That
/// order is the *ingest order* the indexer compares when events arrive late or twice (see ``ingestOrder``). Blobs
/// written before Tessera used version 7 keep their random version-4 IDs and order before every version-7 one.
public struct BlobID: Sendable, Hashable, Codable, CustomStringConvertible, Comparable {
    /// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, lower-case hexadecimal.
    public let value: String

    private init(trusted value: String) {
        self.value = value
    }

    /// Accepts exactly a UUID (any case; stored lower-case). Anything else, a path above all, is nil.
    public init?(validating text: some StringProtocol) {
        let utf8 = Array(text.utf8)
        guard utf8.count == 36 else { return nil }
        var lowered: [UInt8] = []
        lowered.reserveCapacity(36)
        for (offset, byte) in utf8.enumerated() {
            if offset == 8 || offset == 13 || offset == 18 || offset == 23 {
                guard byte == UInt8(ascii: "-") else { return nil }
                lowered.append(byte)
                continue
            }
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"): lowered.append(byte)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): lowered.append(byte + 32)
            default: return nil
            }
        }
        self.value = String(decoding: lowered, as: UTF8.self)
    }

    /// A new version-7 UUID, later than every one this process made before.
    public static func generate() -> BlobID {
        let now = UInt64(max(0, Date().timeIntervalSince1970 * 1000))
        let (milliseconds, counter) = clock.withLock { state -> (UInt64, UInt16) in
            if now > state.milliseconds {
                state = (now, UInt16.random(in: 0..<0x400))  // room left to count up within the millisecond
            } else if state.counter < 0xFFF {
                state.counter += 1
            } else {
                state = (state.milliseconds + 1, 0)  // counter exhausted: borrow the next millisecond
            }
            return state
        }
        var bytes = [UInt8](repeating: 0, count: 16)
        for index in 0..<6 { bytes[index] = UInt8(truncatingIfNeeded: milliseconds >> (40 - 8 * UInt64(index))) }
        bytes[6] = 0x70 | UInt8(counter >> 8)
        bytes[7] = UInt8(truncatingIfNeeded: counter)
        var random = SystemRandomNumberGenerator()
        let tail = random.next() as UInt64
        for index in 8..<16 { bytes[index] = UInt8(truncatingIfNeeded: tail >> (8 * UInt64(index - 8))) }
        bytes[8] = 0x80 | (bytes[8] & 0x3F)
        let hex = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(36)
        for (index, byte) in bytes.enumerated() {
            if index == 4 || index == 6 || index == 8 || index == 10 { text.append(UInt8(ascii: "-")) }
            text.append(hex[Int(byte >> 4)])
            text.append(hex[Int(byte & 0x0F)])
        }
        return BlobID(trusted: String(decoding: text, as: UTF8.self))
    }

    private static let clock = Mutex<(milliseconds: UInt64, counter: UInt16)>((0, 0))

    /// The UUID version (7 for blobs Tessera writes now, 4 for older ones).
    public var version: Int {
        let utf8 = Array(value.utf8)
        return Int(Self.nibble(utf8[14]))
    }

    /// The creation time in milliseconds since 1970 that a version-7 ID carries; 0 for other versions.
    public var timestampMilliseconds: Int64 {
        guard version == 7 else { return 0 }
        var result: Int64 = 0
        for byte in value.utf8.prefix(13) where byte != UInt8(ascii: "-") {
            result = result << 4 | Int64(Self.nibble(byte))
        }
        return result
    }

    /// The order in which blobs were ingested: creation time, then the ID itself. Two copies of the same instance
    /// compare by it, so an event that arrives late or twice never replaces a newer copy.
    public var ingestOrder: IngestOrder { IngestOrder(milliseconds: timestampMilliseconds, blob: value) }

    public static func < (lhs: BlobID, rhs: BlobID) -> Bool { lhs.ingestOrder < rhs.ingestOrder }

    public var description: String { value }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let id = BlobID(validating: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "Not a blob ID (a UUID)"))
        }
        self = id
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }

    private static func nibble(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "a") ? byte - UInt8(ascii: "a") + 10 : byte - UInt8(ascii: "0")
    }
}

/// When a blob was ingested, comparable across processes: milliseconds since 1970 (0 for blobs whose ID carries no
/// time), then the blob ID to break ties.
public struct IngestOrder: Sendable, Hashable, Comparable {
    public var milliseconds: Int64
    public var blob: String

    public init(milliseconds: Int64, blob: String) {
        self.milliseconds = milliseconds
        self.blob = blob
    }

    public static func < (lhs: IngestOrder, rhs: IngestOrder) -> Bool {
        (lhs.milliseconds, lhs.blob) < (rhs.milliseconds, rhs.blob)
    }
}
