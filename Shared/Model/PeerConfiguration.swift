/// A remote Orthanc (or Tessera) server, as Orthanc's `OrthancPeers` entries and `PUT /peers/{id}` bodies declare it:
/// the short form `["url"(, "username", "password")]` or the long form with `HttpHeaders` and client certificates.
public struct PeerConfiguration: RemoteEndpoint, Hashable {
    /// The base URL, ending with `/` (Orthanc adds it).
    public var url: String
    public var username: String?
    public var password: String?
    /// Extra headers sent with every request.
    public var httpHeaders: [String: String] = [:]
    /// PEM client certificate and key (HTTPS with client authentication).
    public var certificateFile: String?
    public var certificateKeyFile: String?
    public var certificateKeyPassword: String?
    /// `Timeout` in seconds (0: `HttpTimeout`).
    public var timeout = 0

    public init(url: String) {
        self.url = url.hasSuffix("/") ? url : url + "/"
    }

    public init(json: JSONValue) throws(TesseraError) {
        switch json {
        case .array(let items):
            guard items.count == 1 || items.count == 3, let url = items[0].stringValue else {
                throw Self.bad("A peer must be [URL] or [URL, username, password]")
            }
            self.init(url: url)
            if items.count == 3 {
                guard let username = items[1].stringValue, let password = items[2].stringValue else {
                    throw Self.bad("String values expected for the username and password of a peer")
                }
                self.username = username
                self.password = password
            }
        case .object(let members):
            func string(_ key: String) throws(TesseraError) -> String? {
                guard let value = members[key] else { return nil }
                guard let text = value.stringValue else { throw Self.bad("String value expected in field: \(key)") }
                return text
            }
            guard let url = try string("Url") else { throw Self.bad("String value expected in field: Url") }
            self.init(url: url)
            username = try string("Username")
            password = try string("Password")
            certificateFile = try string("CertificateFile")
            certificateKeyFile = try string("CertificateKeyFile")
            certificateKeyPassword = try string("CertificateKeyPassword")
            if let headers = members["HttpHeaders"] {
                guard case .object(let pairs) = headers else { throw Self.bad("HttpHeaders must be an object of strings") }
                for (name, value) in pairs {
                    guard let text = value.stringValue else { throw Self.bad("HttpHeaders must be an object of strings") }
                    httpHeaders[name] = text
                }
            }
            if let value = members["Timeout"] {
                guard let seconds = value.intValue, seconds >= 0 else { throw Self.bad("Positive integer expected in field: Timeout") }
                timeout = seconds
            }
            if members["Pkcs11"]?.boolValue == true {
                throw TesseraError(.notImplemented, details: "Pkcs11: hardware security modules are not supported by Tessera")
            }
        default:
            throw Self.bad("A peer must be a JSON array or object")
        }
        guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
            throw Self.bad("The URL of a peer must start with http:// or https://: \(url)")
        }
        guard (certificateFile == nil) == (certificateKeyFile == nil) else {
            throw Self.bad("CertificateFile and CertificateKeyFile go together")
        }
    }

    /// What Orthanc prints: header names only, the password hidden.
    public var json: JSONValue {
        var members: [String: JSONValue] = [
            "Url": .string(url), "HttpHeaders": .array(httpHeaders.keys.sorted().map(JSONValue.string)),
            "Pkcs11": .bool(false), "Timeout": .number(Double(timeout)),
        ]
        if let username {
            members["Username"] = .string(username)
            members["Password"] = .null
        }
        if let certificateFile { members["CertificateFile"] = .string(certificateFile) }
        if let certificateKeyFile { members["CertificateKeyFile"] = .string(certificateKeyFile) }
        return .object(members)
    }

    /// The whole definition, secrets included (what the database keeps).
    public var storedJSON: JSONValue {
        var members: [String: JSONValue] = [
            "Url": .string(url), "HttpHeaders": .object(httpHeaders.mapValues(JSONValue.string)), "Timeout": .number(Double(timeout)),
        ]
        if let username { members["Username"] = .string(username) }
        if let password { members["Password"] = .string(password) }
        if let certificateFile { members["CertificateFile"] = .string(certificateFile) }
        if let certificateKeyFile { members["CertificateKeyFile"] = .string(certificateKeyFile) }
        if let certificateKeyPassword { members["CertificateKeyPassword"] = .string(certificateKeyPassword) }
        return .object(members)
    }

    public static let collection = "peers"

    public static func unknown(_ name: String) -> TesseraError {
        TesseraError(.unknownResource, details: "No peer with symbolic name: \(name)")
    }

    public static func unknownOnDeletion(_ name: String) -> TesseraError {
        TesseraError(.inexistentItem, details: "Unknown Orthanc peer: \(name)")
    }

    private static func bad(_ details: String) -> TesseraError {
        TesseraError(.badFileFormat, details: details)
    }
}
