import Foundation

/// Whether a TCP port is listening on this machine, from the kernel's socket tables (`/proc/net/tcp`, `tcp6`): the
/// gateway's readiness checks that its DICOM port is bound without opening an association to itself.
public enum ListeningPorts {
    /// True when a socket in state LISTEN has local port `port`.
    public static func isListening(_ port: Int) -> Bool {
        ["/proc/net/tcp", "/proc/net/tcp6"].contains { table in
            guard let text = try? String(contentsOfFile: table, encoding: .utf8) else { return false }
            return listening(in: text).contains(port)
        }
    }

    /// The local ports of LISTEN sockets (state 0A) in a `/proc/net/tcp` table.
    static func listening(in table: String) -> Set<Int> {
        var ports: Set<Int> = []
        for line in table.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count > 3, fields[3] == "0A", let colon = fields[1].lastIndex(of: ":"),
                  let port = Int(fields[1][fields[1].index(after: colon)...], radix: 16) else { continue }
            ports.insert(port)
        }
        return ports
    }
}
