import DICOM
import Ingest
import Logging
import Model
import ServiceLifecycle

/// The DICOM listener as a service: answers C-ECHO, and C-STORE with Success only once the instance is durable
/// (blob written and event acknowledged). At graceful shutdown it stops accepting and lets current associations end.
struct DicomGatewayService: Service {
    let scp: StoreSCP
    let ingest: InstanceIngest
    let logger: Logger

    func run() async throws {
        let ingest = self.ingest
        let scp = self.scp
        try await withGracefulShutdownHandler {
            try await scp.run { received in
                let source = IngestSource(origin: "DicomProtocol", remoteAET: received.callingAET,
                                          calledAET: received.calledAET, remoteIP: received.peerIP)
                do {
                    _ = try await ingest.store(received.bytes, summarized: received.summary, source: source)
                    return .success
                } catch let error as TesseraError where error.code == .badFileFormat || error.code == .inexistentTag {
                    return .cannotUnderstand
                } catch {
                    return .outOfResources
                }
            }
        } onGracefulShutdown: {
            scp.stop()
        }
        logger.info("DICOM server stopped")
    }
}
