import DICOM
import Model

extension InstanceIngest {
    /// What becomes of an instance received by C-STORE (on the SCP, or during a C-GET we asked for): on the receiving
    /// thread the file is read and made a durable blob; then the event is published (on that thread too, unless storage
    /// limits must be checked first), and Success answered only once the broker acknowledged it. Any failure answers
    /// the DIMSE status that tells the sender whether to retry.
    /// `datashare`: the edge receiver's datashare the association selected (the instance carries it).
    public func handle(_ received: ReceivedInstance, datashare: String? = nil) -> StoreHandling {
        var source = IngestSource(origin: "DicomProtocol", remoteAET: received.callingAET, calledAET: received.calledAET,
                                  remoteIP: received.peerIP, datashare: datashare)
        if received.associationID != 0 { source.association = received.associationID }
        let start = ContinuousClock.now
        let instance: StoredInstance
        do throws(TesseraError) {
            instance = try prepare(incoming: received.path, md5: received.md5, source: source)
        } catch {
            return .answer(DimseStatus.failure(for: error))
        }
        guard admission != nil else {
            // No storage limits to check: publish on this (DCMTK) thread, which waits for the broker anyway.
            do throws(TesseraError) {
                try publishBlocking(instance, since: start)
                return .answer(.success)
            } catch {
                return .answer(DimseStatus.failure(for: error))
            }
        }
        return .then {
            do throws(TesseraError) {
                try await publish(instance, since: start)
                return .success
            } catch {
                return DimseStatus.failure(for: error)
            }
        }
    }
}
