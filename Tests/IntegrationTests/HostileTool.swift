import Foundation

/// `Tests/tools/hostile.py` (hostile files, misbehaving DICOM and HTTP peers) and `Tests/tools/orthanc_oracle.py`
/// (stock Orthanc's answers), run with the project's Python; each prints one JSON object.
struct HostileTool {
    let environment: TestEnvironment

    /// Runs a subcommand of hostile.py and returns its JSON answer.
    func run(_ arguments: [String], timeout: Duration = .seconds(300)) async throws -> [String: Any] {
        try await json(environment.repository + "/Tests/tools/hostile.py", arguments, timeout: timeout)
    }

    /// Runs a subcommand of orthanc_oracle.py (stock Orthanc on free ports) and returns its JSON answer.
    func oracle(_ arguments: [String]) async throws -> [String: Any] {
        try await json(environment.repository + "/Tests/tools/orthanc_oracle.py", arguments, timeout: .seconds(300))
    }

    /// Compares the datasets of files two by two (`Tests/tools/dataset_compare.py`): `{"pairs", "different"}`.
    func compare(_ files: [String]) async throws -> [String: Any] {
        try await json(environment.repository + "/Tests/tools/dataset_compare.py", files, timeout: .seconds(300))
    }

    /// Writes a generated file in a fresh folder and returns its path.
    func make(_ command: String, _ arguments: [String] = [], name: String = "file.dcm") async throws -> String {
        let path = try environment.temporaryFolder("hostile") + "/" + name
        _ = try await run([command] + arguments + ["--out", path])
        return path
    }

    private func json(_ script: String, _ arguments: [String], timeout: Duration) async throws -> [String: Any] {
        let outcome = try await ProcessRunner.run(environment.python, [script] + arguments, timeout: timeout)
        // stdout and stderr share the log: the answer is the last line that is a JSON object.
        guard let line = outcome.output.split(separator: "\n").last(where: { $0.hasPrefix("{") }),
              let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw Failed(arguments: arguments, output: outcome.output)
        }
        guard outcome.status == 0 else { throw Failed(arguments: arguments, output: outcome.output) }
        return object
    }

    struct Failed: Error, CustomStringConvertible {
        let arguments: [String]
        let output: String
        var description: String { "tool \(arguments.first ?? "") failed: \(output.suffix(1500))" }
    }
}
