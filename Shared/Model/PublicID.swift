import Crypto

/// An Orthanc public identifier: the SHA-1 of a resource's DICOM identifiers, printed as five groups of
/// eight lowercase hex digits joined by `-` (44 characters), e.g. `6816cb19-844d5aee-85245eba-28e841e6-2414fae2`.
public struct PublicID: Sendable, Hashable, Codable, CustomStringConvertible, Comparable {
    /// The 44-character textual form.
    public let value: String

    /// Wraps an identifier read from a trusted source (the index).
    public init(unchecked value: String) {
        self.value = value
    }

    /// Parses an identifier from untrusted input (a URL); nil unless it has Orthanc's exact shape.
    public init?(validating text: some StringProtocol) {
        let utf8 = Array(text.utf8)
        guard utf8.count == 44 else { return nil }
        for (offset, byte) in utf8.enumerated() {
            if offset % 9 == 8 {
                guard byte == UInt8(ascii: "-") else { return nil }
            } else {
                let isDigit = byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
                let isHex = byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f")
                guard isDigit || isHex else { return nil }
            }
        }
        self.value = String(decoding: utf8, as: UTF8.self)
    }

    /// The identifier Orthanc derives from `text` (SHA-1, hex, 5 groups of 8).
    public static func hashing(_ text: String) -> PublicID {
        let digest = Insecure.SHA1.hash(data: Array(text.utf8))
        let hexDigits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(44)
        for (index, byte) in digest.enumerated() {
            if index > 0 && index % 4 == 0 { out.append(UInt8(ascii: "-")) }
            out.append(hexDigits[Int(byte >> 4)])
            out.append(hexDigits[Int(byte & 0x0f)])
        }
        return PublicID(unchecked: String(decoding: out, as: UTF8.self))
    }

    public var description: String { value }

    public static func < (lhs: PublicID, rhs: PublicID) -> Bool { lhs.value < rhs.value }

    public init(from decoder: Decoder) throws {
        value = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}
