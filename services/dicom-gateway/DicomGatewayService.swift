import DICOM
import Ingest
import Logging
import ServiceLifecycle

/// The DICOM listener as a service: answers C-ECHO, and C-STORE with Success only once the instance is durable
/// (blob written and event acknowledged). At graceful shutdown it stops accepting, answers the requests in progress
/// and ends the associations.
struct DicomGatewayService: Service {
    let scp: StoreSCP
    let ingest: InstanceIngest
    let logger: Logger

    func run() async throws {
        let ingest = self.ingest
        let scp = self.scp
        try await withGracefulShutdownHandler {
            try await scp.run { received in ingest.handle(received) }
        } onGracefulShutdown: {
            scp.stop()
        }
        logger.info("DICOM server stopped")
    }
}
