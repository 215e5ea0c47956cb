import Logging
import Model
import PostgresNIO

/// Decides, before an instance is acknowledged, whether the storage limits let it in (Orthanc's check at store
/// time): an instance larger than `MaximumStorageSize` never; in "Reject" mode, nothing that would pass a limit (a
/// new patient beyond `MaximumPatientCount`, bytes beyond `MaximumStorageSize`); in "Recycle" mode, what passes a
/// limit only if some other unprotected patient can be recycled to make room (the indexer then recycles, see
/// ``PatientRecycler``). A refusal is Orthanc's "The file storage is full" (HTTP 507, C-STORE 0xA700).
///
/// The index shows what is indexed; what this process admitted and the indexer has not written yet is counted too,
/// so a burst of new patients on one gateway cannot slip past a limit. Other replicas' not-yet-indexed instances are
/// not seen: across replicas a limit can be passed by what they admit within the indexing lag (under a second at
/// sustained load); in "Recycle" mode the indexer trims it.
public actor StorageAdmission {
    let database: IndexDatabase
    let limits: StorageLimits
    let logger: Logger

    /// Admitted here, perhaps not indexed yet; forgotten once indexed or after ``pendingLifetime``.
    private var pending: [(patient: PublicID, instance: PublicID, size: Int64, at: ContinuousClock.Instant)] = []
    static let pendingLifetime = Duration.seconds(60)

    public init(database: IndexDatabase, limits: StorageLimits) {
        self.database = database
        self.limits = limits
        self.logger = database.logger
    }

    /// The check an ingest path runs before announcing an instance (``InstanceIngest/admission``); nil when no limit
    /// is set.
    public static func check(_ database: IndexDatabase, _ limits: StorageLimits) -> (@Sendable (StoredInstance) async throws(TesseraError) -> Void)? {
        guard limits.isLimited else { return nil }
        let admission = StorageAdmission(database: database, limits: limits)
        return { instance throws(TesseraError) in
            let ids = instance.summary.identifiers
            try await admission.admit(patient: ids.patientPublicID, instance: ids.instancePublicID, size: Int64(instance.fileSize))
        }
    }

    /// Admits an instance of `size` bytes of `patient`, or throws `fullStorage`.
    public func admit(patient: PublicID, instance: PublicID, size: Int64) async throws(TesseraError) {
        guard limits.isLimited else { return }
        if limits.maximumStorageSize > 0 && size > limits.maximumStorageSize {
            throw TesseraError(.fullStorage, details: "Cannot store an instance of size \(size) bytes in a storage area limited to \(limits.maximumStorageSize)")
        }
        let state: State
        do {
            state = try await read(patient: patient, instance: instance)
        } catch {
            throw DatabaseFailure.tesseraError(for: error) ?? TesseraError(.databaseUnavailable, details: String(describing: error))
        }
        if state.instanceExists { return }  // already stored: nothing new is added (or a copy replaces it)
        let now = ContinuousClock.now
        pending.removeAll { state.indexedInstances.contains($0.instance) || now - $0.at > Self.pendingLifetime }
        let pendingPatients = Set(pending.map(\.patient)).subtracting(state.indexedPatients).subtracting([patient])
        let isNewPatient = !state.patientExists && !pending.contains { $0.patient == patient }
        let patients = state.patients + Int64(pendingPatients.count) + (isNewPatient ? 1 : 0)
        let bytes = state.size + pending.reduce(0) { $0 + $1.size } + size
        var passed: [String] = []
        if limits.maximumPatientCount > 0 && isNewPatient && patients > Int64(limits.maximumPatientCount) {
            passed.append("MaximumPatientCount (\(limits.maximumPatientCount))")
        }
        if limits.maximumStorageSize > 0 && bytes > limits.maximumStorageSize {
            passed.append("MaximumStorageSize (\(limits.maximumStorageSize >> 20) MB)")
        }
        if !passed.isEmpty {
            switch limits.mode {
            case .reject:
                logger.warning("Refused an instance: a storage limit is reached", metadata: ["limits": "\(passed)"])
                throw TesseraError(.fullStorage, details: "The storage limit is reached (\(passed.joined(separator: ", "))) and MaximumStorageMode is Reject")
            case .recycle:
                guard state.recyclable else {
                    logger.warning("Refused an instance: a storage limit is reached and no patient can be recycled",
                                   metadata: ["limits": "\(passed)"])
                    throw TesseraError(.fullStorage, details: "Cannot recycle more patients")
                }
            }
        }
        pending.append((patient, instance, size, now))
    }

    private struct State {
        var patients: Int64
        var size: Int64
        var patientExists: Bool
        var instanceExists: Bool
        var recyclable: Bool
        var indexedPatients: Set<PublicID>
        var indexedInstances: Set<PublicID>
    }

    private func read(patient: PublicID, instance: PublicID) async throws -> State {
        let pendingPatients = pending.map(\.patient.value)
        let pendingInstances = pending.map(\.instance.value)
        let withSize = limits.maximumStorageSize > 0
        var binds = PostgresBindings(capacity: 4)
        binds.append(patient.value)
        binds.append(instance.value)
        binds.append(pendingPatients)
        binds.append(pendingInstances)
        for try await (patients, size, patientExists, instanceExists, recyclable, indexedPatients, indexedInstances) in try await database.query(PostgresQuery(unsafeSQL: """
            SELECT (SELECT count(*) FROM patients), \(withSize ? StorageUsage.sizeSQL : "0::BIGINT"),
                   EXISTS (SELECT 1 FROM patients WHERE public_id = $1),
                   EXISTS (SELECT 1 FROM instances WHERE public_id = $2),
                   EXISTS (SELECT 1 FROM patients WHERE recycling_seq IS NOT NULL AND public_id <> $1),
                   ARRAY(SELECT public_id FROM patients WHERE public_id = ANY($3)),
                   ARRAY(SELECT public_id FROM instances WHERE public_id = ANY($4))
            """, binds: binds), logger: logger).decode((Int64, Int64, Bool, Bool, Bool, [String], [String]).self) {
            return State(patients: patients, size: size, patientExists: patientExists, instanceExists: instanceExists,
                         recyclable: recyclable, indexedPatients: Set(indexedPatients.compactMap { PublicID(validating: $0) }),
                         indexedInstances: Set(indexedInstances.compactMap { PublicID(validating: $0) }))
        }
        throw TesseraError(.database, details: "The index returned no row")
    }
}
