import Crypto
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

    public func uid(for level: ResourceLevel, original: String) -> String {
        let digest = Array(SHA256.hash(data: Array("\(seed)|\(level.rawValue)|\(original)".utf8)).prefix(16))
        return "2.25." + Self.decimal(digest)
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
