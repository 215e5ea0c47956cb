import Foundation
import Hummingbird
import Model
import ServiceKit
import NIOCore

/// Orthanc's REST access rules: with `RemoteAccessAllowed: false` only loopback clients are served (others get 403);
/// with authentication required, every request needs HTTP Basic credentials from `RegisteredUsers` (else 401 with
/// `WWW-Authenticate`). `/health` and `/ready` stay open for orchestrators' probes.
struct AccessControlMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext

    let remoteAccessAllowed: Bool
    let authenticationRequired: Bool
    let credentials: BasicCredentials

    init(configuration: TesseraConfiguration) {
        remoteAccessAllowed = configuration.remoteAccessAllowed
        authenticationRequired = configuration.isAuthenticationRequired
        credentials = BasicCredentials(users: configuration.registeredUsers)
    }

    /// Refuses configurations that would serve remote clients without authentication, or require logins nobody has.
    static func validate(_ configuration: TesseraConfiguration) throws(TesseraError) {
        if configuration.remoteAccessAllowed && !configuration.isAuthenticationRequired {
            throw TesseraError(.badConfiguration, message: "Refusing to serve remote clients without authentication",
                               details: "RemoteAccessAllowed is true and AuthenticationEnabled is false")
        }
        if configuration.isAuthenticationRequired && configuration.registeredUsers.isEmpty {
            throw TesseraError(.badConfiguration, message: "Authentication is enabled but RegisteredUsers is empty")
        }
        if let user = configuration.registeredUsers.keys.first(where: { $0.contains(":") }) {
            throw TesseraError(.badConfiguration, message: "A user name cannot contain \":\" (RFC 7617)",
                               details: "RegisteredUsers: \(user)")
        }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.uri.path == "/health" || request.uri.path == "/ready" {
            return try await next(request, context)
        }
        if !remoteAccessAllowed && !Self.isLoopback(context.remoteAddress) {
            return Response(status: .forbidden)
        }
        guard authenticationRequired else { return try await next(request, context) }
        guard let user = authorizedUser(request) else {
            return Response(status: .unauthorized, headers: [.wwwAuthenticate: "Basic realm=\"Orthanc Secure Area\""])
        }
        var context = context
        context.user = user
        return try await next(request, context)
    }

    /// The user whose Basic credentials match `RegisteredUsers`, if any.
    private func authorizedUser(_ request: Request) -> String? {
        guard let header = request.headers[.authorization] else { return nil }
        return credentials.user(authorization: header)
    }

    static func isLoopback(_ address: SocketAddress?) -> Bool {
        guard let ip = address?.ipAddress else { return address?.pathname != nil }
        return ip.hasPrefix("127.") || ip == "::1" || ip.hasPrefix("::ffff:127.")
    }
}
