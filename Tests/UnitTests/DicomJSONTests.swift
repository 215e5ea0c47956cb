import DICOM
import Foundation
import Model
import Testing

/// Tag JSON against what stock Orthanc 1.10.1 printed for the same files (scripts/orthanc-tag-fixtures.py).
@Suite("DICOM as Orthanc JSON")
struct DicomJSONTests {
    struct Fixture: Decodable {
        let Orthanc: String
        let Routes: [String: JSONValue]
    }

    static let files: [String] = {
        guard let folder = Bundle.module.url(forResource: "tags", withExtension: nil, subdirectory: "Fixtures"),
              let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return [] }
        return names.filter { $0.hasSuffix(".dcm") }.sorted()
    }()

    static func url(_ name: String) throws -> URL {
        try #require(Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures/tags"))
    }

    /// The first differences between two JSON values, as paths, to make a failure readable.
    static func differences(_ mine: JSONValue, _ theirs: JSONValue, path: String = "", limit: Int = 5) -> [String] {
        switch (mine, theirs) {
        case (.object(let a), .object(let b)):
            var found: [String] = []
            for key in Set(a.keys).union(b.keys).sorted() where found.count < limit {
                switch (a[key], b[key]) {
                case (nil, let other?): found.append("\(path)/\(key): missing, Orthanc has \(other)")
                case (let extra?, nil): found.append("\(path)/\(key): extra \(extra)")
                case (let x?, let y?): found += differences(x, y, path: "\(path)/\(key)", limit: limit - found.count)
                default: break
                }
            }
            return found
        case (.array(let a), .array(let b)) where a.count == b.count:
            return zip(a, b).enumerated().flatMap { differences($1.0, $1.1, path: "\(path)[\($0)]", limit: limit) }.prefix(limit).map { $0 }
        default:
            return mine == theirs ? [] : ["\(path): \(mine) instead of \(theirs)"]
        }
    }

    @Test("At least 15 varied files recorded from stock Orthanc")
    func fixturesPresent() {
        #expect(Self.files.count >= 15)
    }

    @Test("/tags, ?short, ?simplify, /simplified-tags and /header equal stock Orthanc's", arguments: files)
    func equalToStockOrthanc(name: String) throws {
        let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: Self.url(name + ".json")))
        let file = try DicomFile(bytes: Data(contentsOf: Self.url(name)))
        let full = DicomJSONRenderer(format: .full), short = DicomJSONRenderer(format: .short)
        let human = DicomJSONRenderer(format: .human)
        let expected: [(String, JSONValue)] = [
            ("tags", full.render(datasetOf: file)), ("tags?short", short.render(datasetOf: file)),
            ("tags?simplify", human.render(datasetOf: file)), ("simplified-tags", human.render(datasetOf: file)),
            ("header", full.render(metaHeaderOf: file)), ("header?short", short.render(metaHeaderOf: file)),
            ("header?simplify", human.render(metaHeaderOf: file)),
        ]
        for (route, mine) in expected {
            let theirs = try #require(fixture.Routes[route], "\(route) recorded")
            let diff = Self.differences(mine, theirs)
            #expect(diff.isEmpty, "\(name) \(route): \(diff.joined(separator: "; "))")
        }
    }
}

extension DicomJSONTests {
    @Test("Main tags are indexed with the values stock Orthanc shows (character sets included)", arguments: files)
    func mainTagsAsShown(name: String) throws {
        let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: Self.url(name + ".json")))
        let shown = try #require(fixture.Routes["simplified-tags"])
        let summary = try InstanceSummary(file: DicomFile(bytes: Data(contentsOf: Self.url(name))))
        for (tagName, value) in [summary.patientTags, summary.studyTags, summary.seriesTags, summary.instanceTags].joined() {
            #expect(shown[tagName] == .string(value), "\(name): \(tagName)")
        }
        #expect(summary.patientTags["PatientName"].map { shown["PatientName"] == .string($0) } ?? (shown["PatientName"] == nil))
    }
}
