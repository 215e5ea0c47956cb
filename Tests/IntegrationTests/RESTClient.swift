import AsyncHTTPClient
import Foundation
import NIOCore

/// A small HTTP client for the REST API under test; every call has a timeout.
struct RESTClient {
    let baseURL: String

    struct Answer {
        let status: Int
        let headers: [(String, String)]
        let body: [UInt8]

        func json() throws -> Any {
            try JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed])
        }

        func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }

        /// The body as UTF-8 text.
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    func get(_ path: String, user: String? = nil, password: String? = nil) async throws -> Answer {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = .GET
        if let user, let password {
            request.headers.add(name: "Authorization", value: "Basic " + Data("\(user):\(password)".utf8).base64EncodedString())
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 256 * 1024 * 1024)
        return Answer(status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) },
                      body: Array(buffer: body))
    }

    /// A GET with the given headers (an Authorization header spelled by the test, for instance).
    func get(_ path: String, headers: [(String, String)]) async throws -> Answer {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = .GET
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 256 * 1024 * 1024)
        return Answer(status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) },
                      body: Array(buffer: body))
    }

    func post(_ path: String, body: [UInt8], user: String? = nil, password: String? = nil) async throws -> Answer {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = .POST
        if let user, let password {
            request.headers.add(name: "Authorization", value: "Basic " + Data("\(user):\(password)".utf8).base64EncodedString())
        }
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(120))
        let collected = try await response.body.collect(upTo: 64 * 1024 * 1024)
        return Answer(status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) },
                      body: Array(buffer: collected))
    }

    /// Any method, with an optional body (PUT, DELETE, POST of JSON, ...) and optional Basic credentials.
    func send(_ method: String, _ path: String, body: [UInt8]? = nil, user: String? = nil, password: String? = nil,
              headers: [(String, String)] = []) async throws -> Answer {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = .init(rawValue: method)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let user, let password {
            request.headers.add(name: "Authorization", value: "Basic " + Data("\(user):\(password)".utf8).base64EncodedString())
        }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(120))
        let collected = try await response.body.collect(upTo: 256 * 1024 * 1024)
        return Answer(status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) },
                      body: Array(buffer: collected))
    }

    /// POST of a JSON value.
    func post(_ path: String, json: Any) async throws -> Answer {
        try await send("POST", path, body: [UInt8](try JSONSerialization.data(withJSONObject: json, options: [.fragmentsAllowed])))
    }

    /// A JSON object or array answered with 200 (the test fails otherwise).
    func json<T>(_ path: String, as type: T.Type = [String: Any].self) async throws -> T {
        let answer = try await get(path)
        guard answer.status == 200, let value = try answer.json() as? T else {
            throw UnexpectedAnswer(path: path, status: answer.status, body: String(decoding: answer.body, as: UTF8.self))
        }
        return value
    }

    /// The IDs `GET /instances` lists.
    func instanceIDs() async throws -> Set<String> {
        Set(try await json("/instances", as: [String].self))
    }

    /// Waits until every ID is listed (the indexer works asynchronously), up to `seconds`; returns what is listed.
    func waitForInstances(_ ids: Set<String>, seconds: Int = 90) async throws -> Set<String> {
        let deadline = ContinuousClock.now + .seconds(seconds)
        var listed = try await instanceIDs()
        while !ids.isSubset(of: listed) && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(250))
            listed = try await instanceIDs()
        }
        return listed
    }

    /// The whole change log.
    func changes() async throws -> [[String: Any]] {
        var all: [[String: Any]] = []
        var since = 0
        while true {
            let page = try await json("/changes?since=\(since)&limit=10000")
            let entries = page["Changes"] as? [[String: Any]] ?? []
            all += entries
            since = page["Last"] as? Int ?? since
            if page["Done"] as? Bool ?? true { return all }
        }
    }

    struct UnexpectedAnswer: Error, CustomStringConvertible {
        let path: String
        let status: Int
        let body: String
        var description: String { "GET \(path) answered \(status): \(body)" }
    }
}
