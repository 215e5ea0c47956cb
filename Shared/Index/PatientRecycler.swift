import Logging
import Model
import PostgresNIO

/// Orthanc's recycling (`MaximumStorageMode` "Recycle"): while the index holds more patients than
/// `MaximumPatientCount` or more bytes than `MaximumStorageSize`, the least recently stored unprotected patient is
/// deleted, one at a time, never a patient that just received an instance. The indexer runs it after each batch
/// (the gateway and the API have refused what no recycling could make room for, see ``StorageAdmission``).
public struct PatientRecycler: Sendable {
    let database: IndexDatabase
    let limits: StorageLimits
    let deleter: ResourceDeleter
    let logger: Logger

    public init(database: IndexDatabase, limits: StorageLimits) {
        self.database = database
        self.limits = limits
        self.deleter = ResourceDeleter(database: database)
        self.logger = database.logger
    }

    /// Whether this configuration recycles at all.
    public var isActive: Bool { limits.isLimited && limits.mode == .recycle }

    /// Recycles patients until the limits hold; returns the patients deleted. `keeping`: patients never deleted here
    /// (those of the instances just indexed).
    @discardableResult
    public func recycle(keeping: Set<PublicID> = []) async throws -> [PublicID] {
        guard isActive else { return [] }
        var recycled: [PublicID] = []
        while true {
            let usage = try await StorageUsage.read(database, size: limits.maximumStorageSize > 0, logger: logger)
            let overCount = limits.maximumPatientCount > 0 && usage.patients > Int64(limits.maximumPatientCount)
            let overSize = limits.maximumStorageSize > 0 && usage.size > limits.maximumStorageSize
            guard overCount || overSize else { break }
            guard let victim = try await oldest(excluding: keeping) else {
                logger.warning("A storage limit is passed and every other patient is protected: nothing can be recycled",
                               metadata: ["patients": "\(usage.patients)", "bytes": "\(usage.size)"])
                break
            }
            if try await deleter.delete(.patient, victim) != nil {
                recycled.append(victim)
                logger.info("Recycled a patient to stay within the storage limits", metadata: ["patient": "\(victim)"])
            }
        }
        return recycled
    }

    /// The unprotected patient stored into least recently, other than `excluding`.
    private func oldest(excluding: Set<PublicID>) async throws -> PublicID? {
        for try await id in try await database.query("""
            SELECT public_id FROM patients WHERE recycling_seq IS NOT NULL AND NOT (public_id = ANY(\(excluding.map(\.value))))
            ORDER BY recycling_seq LIMIT 1
            """, logger: logger).decode(String.self) {
            return PublicID(validating: id)
        }
        return nil
    }
}
