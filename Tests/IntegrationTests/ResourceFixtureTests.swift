import Crypto
import Foundation
import Testing

extension ClusterTests {
    /// Content, frames, tag aggregates, statistics, metadata, attachments, exports, changes and bulk deletion against
    /// what stock Orthanc 1.10.1 answered for the same files and requests (Tests/UnitTests/Fixtures/resources,
    /// recorded by scripts/orthanc-resource-fixtures.py), on an index of their own.
    @Suite("Resource routes at Orthanc fidelity", .serialized)
    struct ResourceFixtureTests {
        let environment: TestEnvironment
        let folder: String

        init() throws {
            environment = try TestEnvironment.load()
            folder = environment.repository + "/Tests/UnitTests/Fixtures"
        }

        /// Where Tessera answers differently on purpose, by case name (status Tessera answers), or `nil` for cases
        /// that need what Tessera does not have yet (sending to modalities, which feeds /exports).
        static let deviations: [String: Int?] = [
            // Orthanc answers 500 for a malformed tag; Tessera 400 with the same OrthancStatus (27).
            "content: malformed tag 0010": 400, "content: malformed tag zzzz": 400,
            // Orthanc does not check that an ID belongs to the route's level; Tessera answers 404.
            "content: a study ID at /instances": 404, "shared-tags: a series ID at /studies": 404,
            "statistics: a series ID at /patients (answered as a series)": 404,
            // Which instance speaks for a patient whose studies disagree: Orthanc's SQLite order vs Tessera's first.
            "module?simplify of the patient with an empty PatientID": 200, "module: a series ID at /patients": 404,
            "instances-tags: a study ID at /series": 404, "module-patient: a series ID at /studies": 404,
            // Orthanc answers 200 and stores nothing; Tessera says the instance is unknown.
            "attachments PUT on an unknown instance": 404,
        ]

        static func needsModalities(_ name: String, _ path: String) -> Bool {
            path.hasPrefix("/modalities/") || (name.hasPrefix("exports") && !name.contains("before any export")
                && !name.contains("POST") && !name.contains("after DELETE /exports") && !name.contains("[LogExportedResources false]"))
                || name.hasPrefix("store ")
        }

        /// Values that differ between two servers: timestamps, storage UUIDs, Orthanc-only metadata.
        static func normalized(_ value: Any?) -> Any? {
            if let object = value as? [String: Any] {
                var copy: [String: Any] = [:]
                for (key, member) in object
                where !["LastUpdate", "ReceptionDate", "Date", "FileUuid", "Uuid", "Labels", "PixelDataOffset", "IsStable"].contains(key) {
                    copy[key] = normalized(member)
                }
                return copy
            }
            if let array = value as? [Any] {
                return array.filter { ($0 as? String) != "PixelDataOffset" }.map { normalized($0) ?? NSNull() }
            }
            return value
        }

        /// JSON text as the recorder (Python's json.dumps) sent it: `", "` and `": "` separators, so that metadata and
        /// attachments stored verbatim get the same bytes and digests.
        static func pythonJSON(_ value: Any) -> String {
            switch value {
            case let object as [String: Any]:
                return "{" + object.keys.sorted().map { "\(pythonJSON($0)): \(pythonJSON(object[$0] ?? NSNull()))" }.joined(separator: ", ") + "}"
            case let array as [Any]:
                return "[" + array.map(pythonJSON).joined(separator: ", ") + "]"
            case let text as String:
                let data = (try? JSONSerialization.data(withJSONObject: text, options: [.fragmentsAllowed, .withoutEscapingSlashes])) ?? Data()
                return String(decoding: data, as: UTF8.self)
            case let flag as Bool where type(of: value) == Bool.self:
                return flag ? "true" : "false"
            case let number as NSNumber:
                return number.stringValue
            default:
                return "null"
            }
        }

        static func same(_ lhs: Any?, _ rhs: Any?) -> Bool {
            NSDictionary(dictionary: ["v": normalized(lhs) ?? NSNull()]).isEqual(to: ["v": normalized(rhs) ?? NSNull()])
        }

        @Test("Every recorded resource request answers as stock Orthanc did")
        func recorded() async throws {
            try await IsolatedStack.with(
                environment, name: "tessera_resources", apiPort: 18053, indexerMetricsPort: 19112,
                json: #"{"UserMetadata": {"Sample": 1024}, "UserContentType": {"report": [1025, "application/pdf"]}, "LogExportedResources": true}"#,
                extra: ["ORTHANC__STABLE_AGE": "100000"]) { stack in
                #expect(try await stack.uploadTagFixtures().isEmpty)
                let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/resources/cases.json"))
                let cases = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
                #expect(cases.count > 200)
                var compared = 0
                for recorded in cases {
                    let name = recorded["name"] as? String ?? "?"
                    let path = try #require(recorded["path"] as? String)
                    if Self.needsModalities(name, path) || name.hasPrefix("changes logged by") { continue }
                    let method = recorded["method"] as? String ?? "GET"
                    var body: [UInt8]?
                    if let raw = recorded["raw"] as? Bool, raw, let text = recorded["body"] as? String {
                        body = Array(text.utf8)
                    } else if let value = recorded["body"], !(value is NSNull) {
                        body = Array(Self.pythonJSON(value).utf8)
                    }
                    let answer = try await stack.api.send(method, path, body: body)
                    let expectedStatus = try #require(recorded["status"] as? Int)
                    if let deviation = Self.deviations[name] {
                        #expect(answer.status == deviation, "\(name): \(answer.status)")
                        continue
                    }
                    compared += 1
                    let text = String(decoding: answer.body, as: UTF8.self)
                    #expect(answer.status == expectedStatus, "\(name): \(method) \(path) → \(answer.status) \(text.prefix(300))")
                    guard answer.status == expectedStatus else { continue }
                    let headers = recorded["headers"] as? [String: String] ?? [:]
                    if let type = headers["content-type"] {
                        let ours = answer.header("content-type") ?? ""
                        #expect(ours.split(separator: ";").first == type.split(separator: ";").first, "\(name): content-type \(ours)")
                    }
                    if let etag = headers["etag"], !etag.contains("<revision>") {
                        // "<revision>-<md5>": the MD5 as recorded; the revision is not, because 1.10.1 with SQLite
                        // stores none (every read says 0). Tessera counts them as Orthanc's PostgreSQL plugin does
                        // (RevisionTests).
                        let ours = answer.header("etag") ?? "none"
                        let md5 = { (tag: String) in tag.split(separator: "-", maxSplits: 1).last.map(String.init) }
                        #expect(md5(ours) == md5(etag) && Int(ours.dropFirst().prefix { $0 != "-" }) != nil,
                                "\(name): etag \(ours), recorded \(etag)")
                    }
                    if let expected = recorded["answer"], !(expected is NSNull) {
                        let mine = try? answer.json()
                        if expectedStatus >= 400 {
                            let code = (expected as? [String: Any])?["OrthancStatus"] as? Int
                            #expect((mine as? [String: Any])?["OrthancStatus"] as? Int == code, "\(name): \(text.prefix(300))")
                        } else {
                            #expect(Self.same(mine, expected), "\(name): \(text.prefix(1500))")
                        }
                    } else if let expected = recorded["text"] as? String, !name.contains("ReceptionDate") {
                        #expect(text == expected, "\(name): \(text.prefix(300))")
                    } else if let md5 = recorded["bodyMd5"] as? String {
                        let digest = Insecure.MD5.hash(data: answer.body).map { String(format: "%02x", $0) }.joined()
                        #expect(digest == md5, "\(name): \(answer.body.count) bytes")
                    } else if expectedStatus < 300 || expectedStatus == 404 || expectedStatus == 403 || expectedStatus == 405 {
                        #expect(answer.body.isEmpty, "\(name): body \(text.prefix(200))")
                    }
                }
                #expect(compared > 180)
            }
        }
    }
}
