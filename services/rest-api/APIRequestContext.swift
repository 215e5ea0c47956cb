import Hummingbird
import Model
import NIOCore

/// The request context of the REST API: Hummingbird's core context plus the client's address,
/// which access control needs.
struct APIRequestContext: RequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    let remoteAddress: SocketAddress?
    /// The authenticated user (HTTP Basic), when authentication is enabled.
    var user: String?

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }
}

extension APIRequestContext {
    /// The `{id}` path parameter when it is a well-formed Orthanc identifier.
    var publicID: PublicID? {
        parameters.get("id").flatMap(PublicID.init(validating:))
    }
}
