import Foundation
import ServiceKit
import Testing

@Suite("HTTP Basic credentials")
struct BasicCredentialsTests {
    private func header(_ text: String, scheme: String = "Basic") -> String {
        "\(scheme) " + Data(text.utf8).base64EncodedString()
    }

    @Test("The user-id ends at the first colon (RFC 7617): a password may contain colons, a user name cannot")
    func colon() {
        let credentials = BasicCredentials(users: ["a": "b:c", "alice": "secret"])
        #expect(credentials.user(authorization: header("a:b:c")) == "a")
        #expect(credentials.user(authorization: header("a:b")) == nil)
        #expect(credentials.user(authorization: header("alice:secret")) == "alice")
        #expect(credentials.user(authorization: header("alice:secre")) == nil)
        #expect(credentials.user(authorization: header("alice:secrets")) == nil)
        #expect(credentials.user(authorization: header("bob:secret")) == nil)
        #expect(credentials.user(authorization: header("alicesecret")) == nil)
    }

    @Test("The scheme name is case-insensitive; malformed headers authenticate nobody")
    func scheme() {
        let credentials = BasicCredentials(users: ["alice": "secret"])
        #expect(credentials.user(authorization: header("alice:secret", scheme: "basic")) == "alice")
        #expect(credentials.user(authorization: header("alice:secret", scheme: "BASIC")) == "alice")
        #expect(credentials.user(authorization: header("alice:secret", scheme: "Bearer")) == nil)
        #expect(credentials.user(authorization: "Basic !!!") == nil)
        #expect(credentials.user(authorization: "Basic") == nil)
    }
}
