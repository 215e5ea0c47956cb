import Crypto
import Foundation
import Testing

extension ClusterTests {
    /// Orthanc's revisions of metadata and attachments (ETag `"<revision>-<md5>"`, `If-Match`, `If-None-Match`,
    /// `CheckRevisions`), as Orthanc with a database that stores revisions answers (its PostgreSQL plugin; Debian's
    /// 1.10.1 with SQLite reports every revision as 0, so the expectations are written here rather than compared).
    @Suite("Revisions of metadata and attachments", .serialized)
    struct RevisionTests {
        let environment: TestEnvironment

        init() throws {
            environment = try TestEnvironment.load()
        }

        static func md5(_ text: String) -> String {
            Insecure.MD5.hash(data: Array(text.utf8)).map { String(format: "%02x", $0) }.joined()
        }

        func withStack(checkRevisions: Bool, _ body: (RESTClient, String) async throws -> Void) async throws {
            let json = #"{"CheckRevisions": \#(checkRevisions), "UserMetadata": {"Sample": 1024}, "UserContentType": {"report": [1025, "text/plain"]}}"#
            try await IsolatedStack.with(environment, name: "tessera_revisions", apiPort: 18962, indexerMetricsPort: 19962, json: json) { stack in
                let upload = try await stack.api.post("/instances", body: [UInt8](try Data(contentsOf: URL(fileURLWithPath:
                    environment.repository + "/Tests/UnitTests/Fixtures/tags/CT_small.dcm"))))
                let id = try #require((try upload.json() as? [String: Any])?["ID"] as? String)
                try await body(stack.api, "/instances/\(id)")
            }
        }

        @Test("Revisions count from 0; a stale If-Match is 409; If-None-Match of the current ETag is 304; malformed tags are 400")
        func revisions() async throws {
            try await withStack(checkRevisions: false) { api, instance in
                let metadata = instance + "/metadata/Sample"
                var put = try await api.send("PUT", metadata, body: Array("v1".utf8))
                #expect(put.status == 200)
                #expect(put.header("ETag") == "\"0-\(Self.md5("v1"))\"")
                put = try await api.send("PUT", metadata, body: Array("v2".utf8))
                #expect(put.header("ETag") == "\"1-\(Self.md5("v2"))\"", "a replacement is the next revision")
                let read = try await api.get(metadata)
                #expect(read.header("ETag") == "\"1-\(Self.md5("v2"))\"", "the stored revision, not 0")
                let stale = try await api.send("PUT", metadata, body: Array("v3".utf8), headers: [("If-Match", "\"0-\(Self.md5("v2"))\"")])
                #expect(stale.status == 409)
                #expect((try stale.json() as? [String: Any])?["OrthancStatus"] as? Int == 43)
                #expect(try await api.get(metadata).body == Array("v2".utf8), "a refused write changes nothing")
                let current = try await api.send("PUT", metadata, body: Array("v3".utf8), headers: [("If-Match", "  \"1-\(Self.md5("v2"))\" ")])
                #expect(current.status == 200)
                #expect(current.header("ETag") == "\"2-\(Self.md5("v3"))\"")
                let unchanged = try await api.get(metadata, headers: [("If-None-Match", "2-\(Self.md5("v3"))")])
                #expect(unchanged.status == 304)
                #expect(unchanged.body.isEmpty)
                #expect(try await api.get(metadata, headers: [("If-None-Match", "\"1-\(Self.md5("v3"))\"")]).status == 200)
                for malformed in ["3", "*", "W/\"2-x\"", "abc-def", ""] {
                    let answer = try await api.send("PUT", metadata, body: Array("v4".utf8), headers: [("If-Match", malformed)])
                    #expect(answer.status == 400, "If-Match: \(malformed)")
                }
                #expect(try await api.send("DELETE", metadata, headers: [("If-Match", "\"1-\(Self.md5("v3"))\"")]).status == 409)
                #expect(try await api.send("DELETE", metadata, headers: [("If-Match", "\"2-\(Self.md5("v3"))\"")]).status == 200)
                let again = try await api.send("PUT", metadata, body: Array("v5".utf8), headers: [("If-Match", "\"7-whatever\"")])
                #expect(again.header("ETag") == "\"0-\(Self.md5("v5"))\"", "a re-created entry starts again at 0, whatever If-Match says")
                // ?numeric: numbers instead of names.
                let numbers = try await api.json(instance + "/metadata?numeric", as: [Int].self)
                #expect(numbers.contains(1024) && numbers.contains(2), "\(numbers)")
                #expect(try await api.json(instance + "/metadata?expand&numeric")["1024"] as? String == "v5")
                // System entries are revision 0.
                let origin = try await api.get(instance + "/metadata/Origin")
                #expect(origin.header("ETag") == "\"0-\(Self.md5(String(decoding: origin.body, as: UTF8.self)))\"")

                let attachment = instance + "/attachments/report"
                put = try await api.send("PUT", attachment, body: Array("hello".utf8))
                #expect(put.header("ETag") == "\"0-\(Self.md5("hello"))\"")
                put = try await api.send("PUT", attachment, body: Array("hello2".utf8))
                #expect(put.header("ETag") == "\"1-\(Self.md5("hello2"))\"")
                for route in ["", "/data", "/info", "/md5", "/size", "/compressed-data"] {
                    let answer = try await api.get(attachment + route, headers: [("If-None-Match", "\"1-\(Self.md5("hello2"))\"")])
                    #expect(answer.status == 304, "\(route)")
                    #expect(answer.header("ETag") == "\"1-\(Self.md5("hello2"))\"", "\(route)")
                }
                #expect(try await api.send("POST", attachment + "/compress").status == 200)
                #expect(try await api.get(attachment + "/data").header("ETag") == "\"2-\(Self.md5("hello2"))\"",
                        "compression writes a new revision of the same content")
                #expect(try await api.get(attachment + "/data").body == Array("hello2".utf8))
                // /statistics counts every attachment, as stored and uncompressed (as Orthanc's totals).
                let fileSize = try #require(try await api.json(instance)["FileSize"] as? Int)
                let compressedSize = try #require(Int(try await api.get(attachment + "/compressed-size").text))
                let statistics = try await api.json("/statistics")
                #expect(statistics["TotalUncompressedSize"] as? String == String(fileSize + 6))
                #expect(statistics["TotalDiskSize"] as? String == String(fileSize + compressedSize))
                let conflict = try await api.send("PUT", attachment, body: Array("x".utf8), headers: [("If-Match", "\"1-\(Self.md5("hello2"))\"")])
                #expect(conflict.status == 409)
                #expect(try await api.send("DELETE", attachment, headers: [("If-Match", "\"2-\(Self.md5("hello2"))\"")]).status == 200)
                #expect(try await api.get(attachment + "/data").status == 404)
                let dicom = try await api.get(instance + "/attachments/dicom/md5")
                #expect(dicom.header("ETag") == "\"0-\(String(decoding: dicom.body, as: UTF8.self))\"")
            }
        }

        @Test("CheckRevisions: creating needs no If-Match, replacing and deleting do")
        func checkRevisions() async throws {
            try await withStack(checkRevisions: true) { api, instance in
                #expect(try await api.json("/system")["CheckRevisions"] as? Bool == true)
                for (path, first) in [(instance + "/metadata/Sample", "a1"), (instance + "/attachments/report", "b1")] {
                    #expect(try await api.send("PUT", path, body: Array(first.utf8)).status == 200, "creation")
                    let blind = try await api.send("PUT", path, body: Array("2".utf8))
                    #expect(blind.status == 409, "\(path)")
                    let delete = try await api.send("DELETE", path)
                    #expect(delete.status == 409)
                    #expect((try delete.json() as? [String: Any])?["Details"] as? String
                            == "HTTP header \"If-Match\" is missing, as \"CheckRevisions\" is \"true\"")
                    let tag = "\"0-\(Self.md5(first))\""
                    #expect(try await api.send("PUT", path, body: Array("2".utf8), headers: [("If-Match", tag)]).status == 200)
                    #expect(try await api.send("DELETE", path, headers: [("If-Match", "\"1-\(Self.md5("2"))\"")]).status == 200)
                }
                // The 403 of a system entry comes before the missing If-Match.
                #expect(try await api.send("DELETE", instance + "/metadata/Origin").status == 403)
            }
        }
    }
}
