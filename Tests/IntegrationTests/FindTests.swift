import Foundation
import Testing

extension ClusterTests {
    /// `/tools/find`, `/tools/lookup` and deletions against what stock Orthanc 1.10.1 answered for the same files
    /// and requests (Tests/UnitTests/Fixtures/find/cases.json, recorded by scripts/orthanc-find-fixtures.py), on an
    /// index of their own so the answers hold exactly those files.
    @Suite("Find and delete at Orthanc fidelity", .serialized)
    struct FindTests {
        let environment: TestEnvironment
        let folder: String

        init() throws {
            environment = try TestEnvironment.load()
            folder = environment.repository + "/Tests/UnitTests/Fixtures"
        }

        /// A recorded request and stock Orthanc's answer.
        struct Case {
            let name: String
            let method: String
            let path: String
            let body: [UInt8]?
            let status: Int
            let answer: Any?
            let bodyValue: Any?

            init(_ json: [String: Any]) throws {
                name = json["name"] as? String ?? "?"
                method = json["method"] as? String ?? "GET"
                path = try #require(json["path"] as? String)
                status = try #require(json["status"] as? Int)
                answer = json["answer"] is NSNull ? nil : json["answer"]
                bodyValue = json["body"] is NSNull ? nil : json["body"]
                if let raw = json["raw"] as? Bool, raw, let text = json["body"] as? String {
                    body = Array(text.utf8)
                } else if let value = bodyValue {
                    body = [UInt8](try JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed]))
                } else {
                    body = nil
                }
            }
        }

        func cases() throws -> [Case] {
            let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/find/cases.json"))
            return try (try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])).map(Case.init)
        }

        /// What may differ between two servers holding the same files: timestamps, stability timers, storage UUIDs,
        /// and the labels Orthanc 1.10 does not have.
        static func normalized(_ value: Any?) -> Any? {
            if let object = value as? [String: Any] {
                var copy: [String: Any] = [:]
                for (key, member) in object where !["LastUpdate", "IsStable", "FileUuid", "Labels", "Date"].contains(key) {
                    copy[key] = normalized(member)
                }
                return copy
            }
            if let array = value as? [Any] {
                return array.map { normalized($0) ?? NSNull() }
            }
            return value
        }

        static func same(_ lhs: Any?, _ rhs: Any?) -> Bool {
            NSDictionary(dictionary: ["v": normalized(lhs) ?? NSNull()]).isEqual(to: ["v": normalized(rhs) ?? NSNull()])
        }

        /// Lists of IDs compare as sets unless the request pages (Limit/Since: the order is then the index order).
        static func sameAnswer(_ mine: Any?, _ expected: Any?, paged: Bool) -> Bool {
            if !paged, let a = mine as? [String], let b = expected as? [String] { return Set(a) == Set(b) && a.count == b.count }
            if !paged, let a = mine as? [[String: Any]], let b = expected as? [[String: Any]] {
                let key = { (item: [String: Any]) in item["ID"] as? String ?? "" }
                return same(a.sorted { key($0) < key($1) }, b.sorted { key($0) < key($1) })
            }
            return same(mine, expected)
        }

        /// Where Tessera answers differently on purpose, by case name: Orthanc's 500s for a client's mistakes become
        /// 400 (same OrthancStatus), `?` matches one character even outside ASCII, and `ModalitiesInStudy` pages
        /// like every other query (Orthanc 1.10 ignores Since without Limit there).
        static let deviations: [String: Int] = [
            "Query is a list": 400, "Query is a string": 400, "Expand as string": 400,
            "unknown tag name in Query": 400, "tag name in lower case: unknown": 400,
            "PatientName ? on a Korean character: no match": 200,
            "ModalitiesInStudy with Since 1 and Limit 2: indexes 1 to 1": 200,
            "ModalitiesInStudy with Since and no Limit: Since ignored": 200,
        ]

        @Test("Every recorded find, lookup and deletion answers as stock Orthanc did")
        func recorded() async throws {
            // No Stable* changes during the test (stock Orthanc was recorded with a StableAge of 100000 s too).
            try await IsolatedStack.with(environment, name: "tessera_find", apiPort: 18045, indexerMetricsPort: 19105,
                                                      extra: ["ORTHANC__STABLE_AGE": "100000"]) { stack in
                #expect(try await stack.uploadTagFixtures().isEmpty)
                let all = try cases()
                #expect(all.count >= 30)
                // One case records only the change types logged after the deletions (none): the next one has the
                // whole answer.
                for recorded in all where !recorded.name.hasPrefix("changes logged after") {
                    let answer = try await stack.api.send(recorded.method, recorded.path, body: recorded.body)
                    if let status = Self.deviations[recorded.name] {
                        #expect(answer.status == status, "\(recorded.name): \(answer.status)")
                        continue
                    }
                    #expect(answer.status == recorded.status, "\(recorded.name): \(answer.status) \(String(decoding: answer.body, as: UTF8.self))")
                    guard answer.status == recorded.status else { continue }
                    let mine = answer.body.isEmpty ? nil : try? answer.json()
                    if recorded.status >= 400 {
                        // Errors: Orthanc's error JSON with the same OrthancStatus (when Orthanc gave a body).
                        if let expected = recorded.answer as? [String: Any] {
                            let ours = mine as? [String: Any]
                            #expect(ours?["OrthancStatus"] as? Int == expected["OrthancStatus"] as? Int, "\(recorded.name): \(ours ?? [:])")
                        }
                        continue
                    }
                    let body = recorded.bodyValue as? [String: Any]
                    let paged = body?["Limit"] != nil || body?["Since"] != nil
                    #expect(Self.sameAnswer(mine, recorded.answer, paged: paged),
                            "\(recorded.name): \(String(decoding: answer.body, as: UTF8.self).prefix(2000))")
                }
            }
        }
    }
}
