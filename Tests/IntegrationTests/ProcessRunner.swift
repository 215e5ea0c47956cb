import Foundation

/// Runs command-line tools (DCMTK's storescu, the test-data generator, scripts, extra services) with posix_spawn,
/// and learns of their exit with waitpid on a dedicated thread: no exit notification can be missed.
struct ProcessRunner {
    struct Outcome {
        let status: Int32
        let output: String
    }

    /// A started process; its output goes to a temporary file.
    final class Running: Sendable {
        let pid: pid_t
        let log: String

        init(pid: pid_t, log: String) {
            self.pid = pid
            self.log = log
        }

        /// Waits for the exit (killing the process after `timeout`) and collects what it printed.
        func wait(timeout: Duration = .seconds(120)) async -> Outcome {
            let pid = self.pid
            let watchdog = Task {
                try await Task.sleep(for: timeout)
                kill(pid, SIGKILL)
            }
            let status: Int32 = await withCheckedContinuation { continuation in
                let thread = Thread {
                    var raw: Int32 = 0
                    while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
                    // WIFEXITED / WEXITSTATUS, spelled out (the C macros are not imported).
                    let exited = raw & 0x7f == 0
                    continuation.resume(returning: exited ? (raw >> 8) & 0xff : 128 + (raw & 0x7f))
                }
                thread.start()
            }
            watchdog.cancel()
            let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            try? FileManager.default.removeItem(atPath: log)
            return Outcome(status: status, output: output)
        }
    }

    /// Starts `executable` (a path, or a name looked up in PATH) with the test's environment plus `extra`.
    static func start(_ executable: String, _ arguments: [String], environment extra: [String: String] = [:]) throws -> Running {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-run-\(UUID().uuidString).log").path
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }.map { "\($0.key)=\($0.value)" }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let result = posix_spawnp(&pid, executable, &actions, nil, argv, envp)
        guard result == 0 else { throw SpawnFailed(executable: executable, code: result) }
        return Running(pid: pid, log: log)
    }

    /// Runs to completion.
    static func run(_ executable: String, _ arguments: [String], environment extra: [String: String] = [:],
                    timeout: Duration = .seconds(120)) async throws -> Outcome {
        try await start(executable, arguments, environment: extra).wait(timeout: timeout)
    }

    struct SpawnFailed: Error, CustomStringConvertible {
        let executable: String
        let code: Int32
        var description: String { "cannot start \(executable): \(String(cString: strerror(code)))" }
    }
}
