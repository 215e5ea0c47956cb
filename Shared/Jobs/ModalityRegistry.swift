import Index
import Model

/// The remote modalities every replica sees: the configuration file's `DicomModalities` (unless
/// `DicomModalitiesInDatabase`) overlaid with those declared through the REST API, which live in PostgreSQL.
///
/// Orthanc keeps REST-declared modalities in memory unless `DicomModalitiesInDatabase` is true; several replicas
/// cannot share memory, so Tessera always keeps them in the database (one replica's PUT is seen by all). With
/// `DicomModalitiesInDatabase: true` the file's entries are ignored, as Orthanc ignores them.
public struct ModalityRegistry: Sendable {
    let configured: [String: ModalityConfiguration]
    let store: ModalityStore

    public init(configuration: TesseraConfiguration, store: ModalityStore) {
        self.configured = configuration.dicomModalitiesInDatabase ? [:] : configuration.modalities
        self.store = store
    }

    /// Every modality by symbolic name.
    public func all() async throws -> [String: ModalityConfiguration] {
        var modalities = configured
        for (name, row) in try await store.all() {
            modalities[name] = row
        }
        return modalities
    }

    /// One modality; `inexistentItem` (404) when there is none by that name, as Orthanc.
    public func modality(_ name: String) async throws -> ModalityConfiguration {
        guard let modality = try await all()[name] else {
            throw TesseraError(.inexistentItem, details: "No modality with symbolic name: \(name)")
        }
        return modality
    }

    /// Declares or replaces a modality.
    public func put(_ name: String, _ modality: ModalityConfiguration) async throws {
        guard !name.isEmpty else { throw TesseraError(.badRequest, details: "A modality needs a symbolic name") }
        try await store.put(name, modality)
    }

    /// Removes a modality; `inexistentItem` when there is none.
    public func delete(_ name: String) async throws {
        guard try await all()[name] != nil else {
            throw TesseraError(.inexistentItem, details: "Unknown DICOM modality with symbolic name: \(name)")
        }
        try await store.delete(name, hide: configured[name] != nil)
    }
}
