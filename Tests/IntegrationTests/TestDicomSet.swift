import Foundation

/// Files written by scripts/make-test-dicom.py, with the Orthanc IDs the generator computed independently.
struct TestDicomSet {
    struct Entry: Decodable {
        let File: String
        let SOPInstanceUID: String
        let ID: String
        let ParentSeries: String
    }

    let folder: String
    let entries: [Entry]

    static func make(_ environment: TestEnvironment, count: Int, seed: Int, omitting omitted: [String] = []) async throws -> TestDicomSet {
        let folder = try environment.temporaryFolder("dicom")
        let outcome = try await ProcessRunner.run(environment.python, [
            environment.repository + "/scripts/make-test-dicom.py", "--out", folder, "--count", String(count),
            "--seed", String(seed), "--patients", "2", "--studies", "2", "--series", "2"] + omitted.flatMap { ["--omit", $0] })
        guard outcome.status == 0 else { throw GenerationFailed(output: outcome.output) }
        let manifest = try Data(contentsOf: URL(fileURLWithPath: folder + "/manifest.json"))
        return TestDicomSet(folder: folder, entries: try JSONDecoder().decode([Entry].self, from: manifest))
    }

    struct GenerationFailed: Error {
        let output: String
    }
}
