import Foundation

/// Files written by scripts/make-test-dicom.py, with the Orthanc IDs the generator computed independently.
struct TestDicomSet {
    struct Entry: Decodable {
        let File: String
        let PatientID: String
        let StudyInstanceUID: String
        let SeriesInstanceUID: String
        let SOPInstanceUID: String
        let ID: String
        let ParentSeries: String
        let ParentStudy: String
        let ParentPatient: String
    }

    let folder: String
    let entries: [Entry]

    static func make(_ environment: TestEnvironment, count: Int, seed: Int, omitting omitted: [String] = [],
                     patients: Int = 2, studies: Int = 2, series: Int = 2, size: Int = 64) async throws -> TestDicomSet {
        let folder = try environment.temporaryFolder("dicom")
        let outcome = try await ProcessRunner.run(environment.python, [
            environment.repository + "/scripts/make-test-dicom.py", "--out", folder, "--count", String(count),
            "--seed", String(seed), "--patients", String(patients), "--studies", String(studies), "--series", String(series),
            "--size", String(size)] + omitted.flatMap { ["--omit", $0] })
        guard outcome.status == 0 else { throw GenerationFailed(output: outcome.output) }
        let manifest = try Data(contentsOf: URL(fileURLWithPath: folder + "/manifest.json"))
        return TestDicomSet(folder: folder, entries: try JSONDecoder().decode([Entry].self, from: manifest))
    }

    /// Posts every file to `/instances`; the statuses, in order.
    func upload(to api: RESTClient) async throws -> [Int] {
        var statuses: [Int] = []
        for entry in entries {
            statuses.append(try await api.post("/instances", body: [UInt8](try Data(contentsOf: URL(fileURLWithPath: entry.File)))).status)
        }
        return statuses
    }

    /// A seed no other test run used (UIDs derive from it).
    static func freshSeed() -> Int { Int.random(in: 10_000_000...99_999_999) }

    struct GenerationFailed: Error {
        let output: String
    }
}
