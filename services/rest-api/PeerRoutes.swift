import Foundation
import Hummingbird
import Index
import Jobs
import Model

/// `/peers`: the Orthanc peers (configuration file and database, seen by every replica), and the requests to them,
/// each made by a worker: `system` (a hidden job) and `store` (`OrthancPeerStore`, synchronous by default, as Orthanc).
struct PeerRoutes {
    let registry: PeerRegistry
    let submitter: JobSubmitter
    let selection: ExportSelection
    let straight: StraightUpload

    /// The operations `GET /peers/{id}` lists: the ones Tessera serves.
    static let operations = ["configuration", "store", "store-straight", "system"]

    func add(to router: Router<APIRequestContext>) {
        EndpointRoutes(registry: registry, operations: Self.operations).add(to: router)
        router.get("/peers/{id}/system") { _, context in
            let peer = try await registry.endpoint(try EndpointRoutes<PeerConfiguration>.name(context))
            let id = try await submitter.submit(.init(type: PeerSystemJob.type, hidden: true,
                                                      request: PeerSystemJob.request(peer: peer), content: .object([:])))
            return OrthancJSON.response(try await submitter.wait(id))
        }
        router.post("/peers/{id}/store-straight") { request, context in
            let peer = try await registry.endpoint(try EndpointRoutes<PeerConfiguration>.name(context))
            let file = try await straight.receive(request)
            return OrthancJSON.response(try await straight.send(file, type: StraightStoreJob.peerType, request: .object([
                "Peer": peer.storedJSON, "Answer": .null]), submitter: submitter))
        }
        router.post("/peers/{id}/store") { request, context in
            let name = try EndpointRoutes<PeerConfiguration>.name(context)
            let peer = try await registry.endpoint(name)
            let body = try await selection.body(request)
            let options = try JobOptions(body, synchronousByDefault: true)
            var transcode: String?
            if let value = body["Transcode"], value != .null {
                guard let syntax = value.stringValue else {
                    throw TesseraError(.badFileFormat, details: "The field \"Transcode\" in a JSON object should be a string")
                }
                transcode = try TranscodingSettings.validate(syntax)
            }
            var compress = false
            if let value = body["Compress"] {
                guard case .bool(let flag) = value else { throw TesseraError(.badFileFormat, details: "Boolean value expected in field: Compress") }
                compress = flag
            }
            let (requested, ids) = try await selection.resolve(body, exportedTo: name)
            let storeRequest = PeerStoreRequest(peerName: name, peer: peer, permissive: options.permissive,
                                                parentResources: requested, instances: ids, compress: compress,
                                                transcode: transcode)
            let id = try await submitter.submit(.init(
                type: PeerStoreRequest.type, priority: options.priority, request: storeRequest.json,
                content: storeRequest.content(failed: 0, bytes: 0), userData: options.userData))
            guard options.synchronous else { return OrthancJSON.response(options.asynchronousAnswer(id)) }
            return OrthancJSON.response(try await submitter.wait(id))
        }
    }
}
