import Model

/// What a Tessera executable was asked on its command line, Orthanc's way: `--help`, `--version`, and an optional
/// configuration path (a JSON file or a folder of them, as `Orthanc /etc/orthanc/`), plus the service's own commands
/// (`tessera-indexer migrate`).
public enum CommandLineOptions: Equatable, Sendable {
    /// Run: with the configuration path given (nil: `TESSERA_CONFIG`, else defaults) and the command (nil: serve).
    case run(configuration: String?, command: String?)
    /// Print this text on standard output and exit 0.
    case help(String)
    /// Print this text on standard output and exit 0.
    case version(String)
    /// Print this text on standard error and exit 2.
    case invalid(String)

    /// What one executable offers, for parsing and for its `--help`.
    public struct Usage: Sendable {
        public var executable: String
        public var summary: String
        /// Command names and what each does.
        public var commands: [(name: String, summary: String)]

        public init(executable: String, summary: String, commands: [(name: String, summary: String)] = []) {
            self.executable = executable
            self.summary = summary
            self.commands = commands
        }

        /// The `--help` text.
        public var text: String {
            var lines = ["Usage: \(executable) [OPTION]...\(commands.isEmpty ? "" : " [COMMAND]") [CONFIGURATION]", "",
                         summary, "",
                         "CONFIGURATION is an Orthanc configuration file, or a folder whose .json files are merged (the",
                         "TESSERA_CONFIG variable names one too). Comments and ${VAR} / ${VAR:-default} are allowed in it.",
                         "Then ORTHANC_JSON, ORTHANC__NAME variables and TESSERA_* variables override it; NAME_SECRET=file",
                         "gives variable NAME the content of file (under /run/secrets, or TESSERA_SECRETS_DIR).",
                         "docs/operations.md lists every key and variable.", ""]
            if !commands.isEmpty {
                lines.append("Commands:")
                let width = commands.map(\.name.count).max() ?? 0
                for command in commands {
                    lines.append("  \(command.name.padding(toLength: width, withPad: " ", startingAt: 0))  \(command.summary)")
                }
                lines.append("")
            }
            lines += ["Options:", "  --help     print this text and exit", "  --version  print the version and exit"]
            return lines.joined(separator: "\n") + "\n"
        }

        /// The `--version` text.
        public var versionText: String {
            "\(executable) \(TesseraVersion.tessera) (Orthanc \(TesseraVersion.orthanc) REST API, ApiVersion \(TesseraVersion.orthancAPI))\n"
        }
    }

    /// Parses `arguments` (without the executable's name).
    public static func parse(_ arguments: [String], usage: Usage) -> CommandLineOptions {
        var configuration: String?
        var command: String?
        for argument in arguments {
            switch argument {
            case "--help", "-h": return .help(usage.text)
            case "--version": return .version(usage.versionText)
            default:
                if argument.hasPrefix("-") {
                    return .invalid("\(usage.executable): unknown option \(argument)\nTry '\(usage.executable) --help'.\n")
                }
                if command == nil, configuration == nil, usage.commands.contains(where: { $0.name == argument }) {
                    command = argument
                } else if configuration == nil {
                    configuration = argument
                } else {
                    return .invalid("\(usage.executable): more than one configuration path (\(configuration ?? ""), \(argument))\n"
                                    + "Try '\(usage.executable) --help'.\n")
                }
            }
        }
        return .run(configuration: configuration, command: command)
    }
}
