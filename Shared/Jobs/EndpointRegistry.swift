import Index
import Model

/// The remote modalities or peers every replica sees: the configuration file's (unless `...InDatabase`) overlaid with
/// those declared through the REST API, which live in PostgreSQL.
///
/// Orthanc keeps REST-declared modalities and peers in memory unless `DicomModalitiesInDatabase` /
/// `OrthancPeersInDatabase` is true; several replicas cannot share memory, so Tessera always keeps them in the
/// database (one replica's PUT is seen by all). With `...InDatabase: true` the file's entries are ignored, as Orthanc
/// ignores them.
public struct EndpointRegistry<Endpoint: RemoteEndpoint>: Sendable {
    let configured: [String: Endpoint]
    let store: EndpointStore<Endpoint>

    public init(configured: [String: Endpoint], inDatabase: Bool, store: EndpointStore<Endpoint>) {
        self.configured = inDatabase ? [:] : configured
        self.store = store
    }

    /// Every endpoint by symbolic name.
    public func all() async throws -> [String: Endpoint] {
        var endpoints = configured
        for (name, row) in try await store.all() {
            endpoints[name] = row
        }
        return endpoints
    }

    /// One endpoint; Orthanc's 404 when there is none by that name.
    public func endpoint(_ name: String) async throws -> Endpoint {
        guard let endpoint = try await all()[name] else { throw Endpoint.unknown(name) }
        return endpoint
    }

    /// Declares or replaces an endpoint.
    public func put(_ name: String, _ endpoint: Endpoint) async throws {
        guard !name.isEmpty else { throw TesseraError(.badRequest, details: "A symbolic name is needed") }
        try Endpoint.validate(name: name)
        try await store.put(name, endpoint)
    }

    /// Removes an endpoint; Orthanc's 404 when there is none.
    public func delete(_ name: String) async throws {
        guard try await all()[name] != nil else { throw Endpoint.unknownOnDeletion(name) }
        try await store.delete(name, hide: configured[name] != nil)
    }
}

public typealias ModalityRegistry = EndpointRegistry<ModalityConfiguration>
public typealias PeerRegistry = EndpointRegistry<PeerConfiguration>
public typealias DatashareRegistry = EndpointRegistry<DatashareConfiguration>

extension EndpointRegistry where Endpoint == ModalityConfiguration {
    public init(configuration: TesseraConfiguration, database: IndexDatabase) {
        self.init(configured: configuration.modalities, inDatabase: configuration.dicomModalitiesInDatabase,
                  store: EndpointStore(database: database))
    }
}

extension EndpointRegistry where Endpoint == DatashareConfiguration {
    public init(configuration: TesseraConfiguration, database: IndexDatabase) {
        self.init(configured: configuration.datashares.shares, inDatabase: false, store: EndpointStore(database: database))
    }
}

extension EndpointRegistry where Endpoint == PeerConfiguration {
    public init(configuration: TesseraConfiguration, database: IndexDatabase) {
        self.init(configured: configuration.peers, inDatabase: configuration.orthancPeersInDatabase,
                  store: EndpointStore(database: database))
    }
}
