import Foundation
import Testing

extension ClusterTests {
    /// Tessera driven by pyorthanc (PyPI), as an Orthanc user's script drives Orthanc: Tests/interop/pyorthanc_interop.py
    /// uploads, lists, finds, reads tags, puts labels, downloads an archive and deletes, checking every answer.
    @Suite("pyorthanc interop", .serialized)
    struct InteropTests {
        let environment: TestEnvironment

        init() throws {
            environment = try TestEnvironment.load()
        }

        @Test("The pyorthanc script passes every step against Tessera (labels included)")
        func pyorthanc() async throws {
            let stack = try await IsolatedStack.start(environment, name: "tessera_interop", apiPort: 18052, indexerMetricsPort: 19111)
            let outcome: ProcessRunner.Outcome
            do {
                outcome = try await ProcessRunner.run(environment.python, [
                    environment.repository + "/Tests/interop/pyorthanc_interop.py", "http://127.0.0.1:18052",
                    environment.repository + "/Tests/UnitTests/Fixtures/tags",
                ], timeout: .seconds(600))
            } catch {
                await stack.stop()
                throw error
            }
            await stack.stop()
            #expect(outcome.status == 0, "\(outcome.output)")
            #expect(!outcome.output.contains("skipped:"), "no step may be skipped against Tessera: \(outcome.output)")
            #expect(outcome.output.contains("ok: labels"), "\(outcome.output)")
        }
    }
}
