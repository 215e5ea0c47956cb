import Index
import Model

/// Runs the `GET /system` of `GET /peers/{id}/system` as a hidden job, so that every outbound request leaves from a
/// worker; the peer's answer is the job's content.
public struct PeerSystemJob: JobHandler {
    let client: PeerClient

    public init(client: PeerClient) {
        self.client = client
    }

    /// Tessera's own job type (hidden from `/jobs`).
    public static let type = "OrthancPeerSystem"

    public var type: String { Self.type }

    public static func request(peer: PeerConfiguration) -> JSONValue {
        .object(["Peer": peer.storedJSON])
    }

    public func run(_ job: JobRecord, context: JobContext) async throws -> JobResult {
        guard let peer = job.request["Peer"] else {
            throw TesseraError(.internalError, details: "An OrthancPeerSystem job's request is incomplete")
        }
        return .success(try await client.system(try PeerConfiguration(json: peer)))
    }
}
