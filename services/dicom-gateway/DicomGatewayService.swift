import DICOM
import Ingest
import Logging
import Model
import ServiceLifecycle
import Storage

/// The DICOM listener as a service: answers C-ECHO, and C-STORE with Success only once the instance is durable
/// (blob written and event acknowledged). At graceful shutdown it stops accepting, answers the requests in progress
/// and ends the associations.
struct DicomGatewayService: Service {
    let scp: StoreSCP
    let ingest: InstanceIngest
    /// Where storage commitment reports complete the transactions the workers started.
    let commitments: StorageCommitmentStore
    let logger: Logger

    func run() async throws {
        let ingest = self.ingest
        let scp = self.scp
        let (commitments, logger) = (self.commitments, self.logger)
        try await withGracefulShutdownHandler {
            try await scp.run(handler: { received in ingest.handle(received) }, commitment: { report in
                let metadata: Logger.Metadata = ["transaction": "\(report.transactionUID)", "remoteAET": "\(report.remoteAET)",
                                                 "committed": "\(report.succeeded.count)", "failed": "\(report.failures.count)"]
                do throws(TesseraError) {
                    guard try commitments.complete(report) else {
                        logger.warning("Refused a storage commitment report for a transaction nobody asked for", metadata: metadata)
                        return DimseStatus(rawValue: 0x0110)
                    }
                } catch {
                    logger.error("Could not record a storage commitment report", metadata: metadata.merging(["error": "\(error)"]) { $1 })
                    return DimseStatus(rawValue: 0x0110)
                }
                logger.info("Storage commitment report received", metadata: metadata)
                return .success
            })
        } onGracefulShutdown: {
            scp.stop()
        }
        logger.info("DICOM server stopped")
    }
}
