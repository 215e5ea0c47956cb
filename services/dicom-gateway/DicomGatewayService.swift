import DICOM
import Ingest
import Logging
import Model
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
            try await scp.run { received in
                let source = IngestSource(origin: "DicomProtocol", remoteAET: received.callingAET,
                                          calledAET: received.calledAET, remoteIP: received.peerIP)
                let start = ContinuousClock.now
                // On the association's own thread: parse and make the blob durable.
                let instance: StoredInstance
                do throws(TesseraError) {
                    instance = try ingest.prepare(incoming: received.path, source: source)
                } catch {
                    return .answer(DimseStatus.failure(for: error))
                }
                return .then {
                    do throws(TesseraError) {
                        try await ingest.publish(instance, since: start)
                        return .success
                    } catch {
                        return DimseStatus.failure(for: error)
                    }
                }
            }
        } onGracefulShutdown: {
            scp.stop()
        }
        logger.info("DICOM server stopped")
    }
}
