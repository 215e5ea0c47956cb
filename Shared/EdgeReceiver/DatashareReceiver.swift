import DICOM
import Foundation
import Ingest
import Logging
import Metrics
import Model

/// The edge receiver (`DatashareMode`): the called AE title (or a substitute, or the calling AE title) selects a
/// datashare; an association that selects none is aborted as soon as it is established. Every instance received in a
/// datashare goes through the ingest path carrying it (label and metadata), within the datashare's disk budget:
/// past it the C-STORE is answered "out of resources" (0xA700). Counts instances, bytes and aborted associations per
/// datashare.
public struct DatashareReceiver: Sendable {
    let directory: DatashareDirectory
    let ingest: InstanceIngest
    let logger: Logger

    public init(directory: DatashareDirectory, ingest: InstanceIngest, logger: Logger) {
        self.directory = directory
        self.ingest = ingest
        self.logger = logger
    }

    /// Whether an association just established may go on (it selects a datashare).
    public func allowsAssociation(calledAET: String, callingAET: String, peerIP: String) -> Bool {
        if directory.select(calledAET: calledAET, callingAET: callingAET) != nil { return true }
        Counter(label: "tessera_datashare_aborted_associations_total", dimensions: [("datashare", "unknown")]).increment()
        logger.info("Association aborted: its AE titles select no datashare", metadata: [
            "calledAET": "\(calledAET)", "callingAET": "\(callingAET)", "peer": "\(peerIP)"])
        return false
    }

    /// The C-STORE handler of the gateway in datashare mode (on the receiving association's thread).
    public func handle(_ received: ReceivedInstance) -> StoreHandling {
        guard let id = directory.select(calledAET: received.calledAET, callingAET: received.callingAET) else {
            // The datashare was removed while the association was open.
            unlink(received.path)
            Counter(label: "tessera_datashare_aborted_associations_total", dimensions: [("datashare", "unknown")]).increment()
            return .answer(.outOfResources)
        }
        let bytes = Self.size(of: received.path)
        guard directory.reserve(id, bytes: bytes) else {
            unlink(received.path)
            Counter(label: "tessera_datashare_refused_total", dimensions: [("datashare", id)]).increment()
            logger.warning("Datashare over its disk budget: instance refused (out of resources)", metadata: [
                "datashare": "\(id)", "budgetBytes": "\(directory.budget(of: id))", "bytes": "\(bytes)"])
            return .answer(.outOfResources)
        }
        let directory = self.directory
        // Stored: counted against the datashare; anything else gives its reservation back.
        let settle: @Sendable (DimseStatus) -> DimseStatus = { status in
            if status == .success {
                Counter(label: "tessera_datashare_instances_total", dimensions: [("datashare", id)]).increment()
                Counter(label: "tessera_datashare_bytes_total", dimensions: [("datashare", id)]).increment(by: Int64(bytes))
            } else {
                directory.release(id, bytes: bytes)
            }
            return status
        }
        switch ingest.handle(received, datashare: id) {
        case .answer(let status):
            return .answer(settle(status))
        case .then(let work):
            return .then { settle(await work()) }
        }
    }

    static func size(of path: String) -> Int64 {
        var info = stat()
        return stat(path, &info) == 0 ? Int64(info.st_size) : 0
    }
}
