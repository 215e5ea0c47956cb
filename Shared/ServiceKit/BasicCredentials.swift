import Foundation

/// HTTP Basic authentication (RFC 7617) against a table of users: the scheme name in any case, the decoded
/// `user-id:password` split at its first colon (a user name cannot contain one), passwords compared in constant time.
public struct BasicCredentials: Sendable {
    private let users: [String: [UInt8]]

    public init(users: [String: String]) {
        self.users = users.mapValues { Array($0.utf8) }
    }

    /// The user an `Authorization` header value authenticates, or nil.
    public func user(authorization header: String) -> String? {
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "basic",
              let decoded = Data(base64Encoded: String(parts[1]).trimmingCharacters(in: .whitespaces)) else { return nil }
        let bytes = Array(decoded)
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        guard let user = String(validating: bytes[..<colon], as: UTF8.self) else { return nil }
        let password = Array(bytes[(colon + 1)...])
        // Compare against a dummy when the user is unknown, so timing tells nothing about which users exist.
        let expected = users[user]
        let matches = Self.constantTimeEqual(password, expected ?? Self.dummy)
        return matches && expected != nil ? user : nil
    }

    private static let dummy = [UInt8](repeating: 0, count: 32)

    /// Equality whose running time depends only on the lengths, not on where the bytes differ.
    static func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: lhs.count ^ rhs.count)
        let count = max(lhs.count, rhs.count)
        for index in 0..<count {
            let left = index < lhs.count ? lhs[index] : 0
            let right = index < rhs.count ? rhs[index] : 0
            difference |= left ^ right
        }
        return difference == 0 && lhs.count == rhs.count
    }
}
