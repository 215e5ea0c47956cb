import DICOM
import EdgeReceiver
import Ingest
import Logging
import Metrics
import Model
import QueryRetrieve
import ServiceLifecycle
import Storage

/// The DICOM listener as a service: answers C-ECHO, C-STORE with Success only once the instance is durable (blob
/// written and event acknowledged), C-FIND, C-MOVE and C-GET, each only for the peers the access rules allow. At graceful shutdown it stops accepting, answers the requests in progress
/// and ends the associations.
struct DicomGatewayService: Service {
    let scp: StoreSCP
    let ingest: InstanceIngest
    /// C-FIND, C-MOVE, C-GET and the access rules.
    let queries: QueryRetrieveService
    /// In datashare mode (the edge receiver): every association selects a datashare, every instance carries it.
    let datashares: DatashareReceiver?
    /// Where storage commitment reports complete the transactions the workers started.
    let commitments: StorageCommitmentStore
    let logger: Logger

    func run() async throws {
        let ingest = self.ingest
        let scp = self.scp
        let (commitments, logger, queries, datashares) = (self.commitments, self.logger, self.queries, self.datashares)
        try await withGracefulShutdownHandler {
            try await withThrowingTaskGroup(of: Void.self) { group in
                // `tessera_dicom_associations_open`, sampled while the server runs.
                group.addTask {
                    let open = Gauge(label: "tessera_dicom_associations_open")
                    while !Task.isCancelled {
                        open.record(scp.activeAssociations)
                        do { try await Task.sleep(for: .seconds(1)) } catch { return }
                    }
                }
                defer { group.cancelAll() }
                try await runServer(scp: scp, ingest: ingest, queries: queries, datashares: datashares,
                                    commitments: commitments, logger: logger)
            }
        } onGracefulShutdown: {
            scp.stop()
        }
        logger.info("DICOM server stopped")
    }

    private func runServer(scp: StoreSCP, ingest: InstanceIngest, queries: QueryRetrieveService,
                           datashares: DatashareReceiver?, commitments: StorageCommitmentStore,
                           logger: Logger) async throws {
        try await scp.run(handler: { received in
            datashares?.handle(received) ?? ingest.handle(received)
        }, commitment: { report in
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
        }, query: { request, responder in
            await queries.handle(request, responder: responder)
        }, access: { access in
            if access.established, let datashares {
                return datashares.allowsAssociation(calledAET: access.calledAET, callingAET: access.callingAET, peerIP: access.peerIP)
            }
            return queries.allows(access)
        })
    }
}
