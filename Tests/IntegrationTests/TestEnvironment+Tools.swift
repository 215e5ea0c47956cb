import Foundation
import Testing

extension TestEnvironment {
    /// Runs a script of Tests/tools with the project's Python and returns the JSON object it prints last (the
    /// comparison tools' report); the output's end goes in the failure when there is none.
    func tool(_ script: String, _ arguments: [String], timeout: Duration = .seconds(600)) async throws -> [String: Any] {
        let outcome = try await ProcessRunner.run(python, [repository + "/Tests/tools/" + script] + arguments, timeout: timeout)
        let line = try #require(outcome.output.split(separator: "\n").last { $0.hasPrefix("{") }, "\(outcome.output.suffix(2000))")
        return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }
}
