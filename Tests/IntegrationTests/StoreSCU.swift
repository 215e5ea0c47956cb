import Foundation

/// DCMTK's storescu against the test cluster's gateway.
struct StoreSCU {
    let environment: TestEnvironment

    /// Sends files in one association (verbose: storescu prints each response's status).
    func send(_ files: [String], timeout: Duration = .seconds(300)) async throws -> ProcessRunner.Outcome {
        try await ProcessRunner.run("storescu", ["-v", "-aec", environment.dicomAET, "-aet", "TESTSCU",
                                                 "127.0.0.1", String(environment.dicomPort)] + files,
                                    environment: ["TCP_NODELAY": "1"], timeout: timeout)
    }

    /// How many C-STORE responses storescu saw with status Success.
    static func successes(_ outcome: ProcessRunner.Outcome) -> Int {
        outcome.output.components(separatedBy: "Received Store Response (Success)").count - 1
    }
}
