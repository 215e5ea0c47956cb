import Crypto
import DICOM
import Foundation
import Model

/// New UIDs for a modification of many instances: each original UID of a level maps to one new UID, the same in every
/// instance, and the same again when a job resumes after its worker died (so an instance modified twice is the same
/// instance, stored once). UIDs are `2.25.` followed by 128 bits of SHA-256 of the seed, the level and the original
/// (PS3.5 B.2, UUID-derived form).
public struct UIDMapping: Sendable {
    public let seed: String

    public init(seed: String) {
        self.seed = seed
    }

    /// The new identifier of `original`: a UID, or for a PatientID (`.patient`) a UUID, as Orthanc makes them.
    public func uid(for level: ResourceLevel, original: String) -> String {
        let digest = Array(SHA256.hash(data: Array("\(seed)|\(level.rawValue)|\(original)".utf8)).prefix(16))
        if level == .patient { return Self.uuid(digest) }
        return "2.25." + Self.decimal(digest)
    }

    /// 16 bytes as a version-4-shaped UUID, lower case.
    static func uuid(_ bytes: [UInt8]) -> String {
        var bytes = bytes
        bytes[6] = bytes[6] & 0x0F | 0x40
        bytes[8] = bytes[8] & 0x3F | 0x80
        let hex = bytes.map { String($0, radix: 16) }.map { $0.count == 1 ? "0" + $0 : $0 }.joined()
        let parts = [hex.prefix(8), hex.dropFirst(8).prefix(4), hex.dropFirst(12).prefix(4), hex.dropFirst(16).prefix(4), hex.dropFirst(20)]
        return parts.joined(separator: "-")
    }

    /// The decimal digits of a big-endian unsigned number.
    static func decimal(_ bytes: [UInt8]) -> String {
        var number = bytes
        var digits: [UInt8] = []
        while number.contains(where: { $0 != 0 }) {
            var remainder = 0
            for index in number.indices {
                let value = remainder << 8 | Int(number[index])
                number[index] = UInt8(value / 10)
                remainder = value % 10
            }
            digits.append(UInt8(remainder))
        }
        return digits.isEmpty ? "0" : String(digits.reversed().map { Character(String($0)) })
    }
}

/// New identifiers for one modification of one file: random (from DCMTK's roots; UUIDs for patients), one per original
/// value and level, so a UID referenced inside a sequence gets the same new value as at the top level.
public final class RandomUIDMapping {
    private var mapped: [String: String] = [:]

    public init() {}

    public func uid(for level: ResourceLevel, original: String) -> String {
        let key = "\(level.rawValue)|\(original)"
        if let known = mapped[key] { return known }
        let made = level == .patient ? UUID().uuidString.lowercased() : DicomUID.generate(for: level)
        mapped[key] = made
        return made
    }
}
