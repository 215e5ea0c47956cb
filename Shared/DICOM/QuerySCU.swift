import CDICOM
import Foundation
import Model

/// C-FIND and C-MOVE as a service user (DCMTK's DcmSCU behind the shim), each on an association of its own. Every
/// call blocks: run it from a thread pool.
public enum QuerySCU {
    /// The Study Root query/retrieve information models (what Orthanc uses for every level).
    public static let studyRootFind = "1.2.840.10008.5.1.4.1.2.2.1"
    public static let studyRootMove = "1.2.840.10008.5.1.4.1.2.2.2"
    /// The Patient Root models (Orthanc's choice for patient-level queries).
    public static let patientRootFind = "1.2.840.10008.5.1.4.1.2.1.1"
    public static let patientRootMove = "1.2.840.10008.5.1.4.1.2.1.2"
    public static let studyRootGet = "1.2.840.10008.5.1.4.1.2.2.3"
    public static let patientRootGet = "1.2.840.10008.5.1.4.1.2.1.3"

    /// What a C-FIND gave: its final status and the answers (DICOM files in memory), at most the limit asked.
    public struct FindResult: Sendable {
        public var status: UInt16
        public var answers: [[UInt8]]
        /// Whether answers past the limit were dropped.
        public var truncated: Bool
    }

    /// What a C-MOVE or a C-GET gave: the final status and sub-operation counts.
    public struct MoveResult: Sendable {
        public var status: UInt16
        public var completed: Int
        public var failed: Int
        public var warning: Int
    }

    /// Runs a C-FIND; `networkProtocol` when the peer cannot be reached, refuses or stays silent.
    public static func find(peer: StoreSCU.Peer, model: String, query: [(DicomTag, String)], limit: Int) throws(TesseraError) -> FindResult {
        final class Collector {
            var answers: [[UInt8]] = []
            var truncated = false
            let limit: Int
            init(limit: Int) { self.limit = limit }
        }
        let collector = Collector(limit: limit)
        var status: UInt16 = 0
        let failure = withQuery(peer: peer, query: query) { options, tags, values, count, error in
            withExtendedLifetime(collector) {
                cdicom_find(options, model, tags, values, count, { context, bytes, length in
                    guard let context, let bytes else { return 1 }
                    let collector = Unmanaged<Collector>.fromOpaque(context).takeUnretainedValue()
                    guard collector.answers.count < collector.limit else {
                        collector.truncated = true
                        return 1
                    }
                    collector.answers.append(Array(UnsafeBufferPointer(start: bytes, count: length)))
                    return 0
                }, Unmanaged.passUnretained(collector).toOpaque(), &status, error, 512)
            }
        }
        if let failure {
            throw TesseraError(.networkProtocol, details: "DicomAssociation - C-FIND to AET \"\(peer.calledAET)\": \(failure)")
        }
        return FindResult(status: status, answers: collector.answers, truncated: collector.truncated)
    }

    /// Runs a C-MOVE to `destination`; `networkProtocol` when the peer cannot be reached, refuses or stays silent.
    public static func move(peer: StoreSCU.Peer, model: String, query: [(DicomTag, String)], destination: String) throws(TesseraError) -> MoveResult {
        var status: UInt16 = 0
        var counts: (UInt16, UInt16, UInt16) = (0, 0, 0)
        let failure = withQuery(peer: peer, query: query) { options, tags, values, count, error in
            withUnsafeMutablePointer(to: &counts) { pointer in
                pointer.withMemoryRebound(to: UInt16.self, capacity: 3) {
                    cdicom_move(options, model, tags, values, count, destination, &status, $0, error, 512)
                }
            }
        }
        if let failure {
            throw TesseraError(.networkProtocol, details: "DicomAssociation - C-MOVE to AET \"\(peer.calledAET)\": \(failure)")
        }
        return MoveResult(status: status, completed: Int(counts.0), failed: Int(counts.1), warning: Int(counts.2))
    }

    /// Runs a C-GET: the peer sends the matching instances on the same association, each received into a new file of
    /// `incomingFolder` and given to `handler` (on this thread; an asynchronous part is awaited at most
    /// `answerTimeout`), whose status answers that C-STORE. `sopClasses` are proposed in the SCP role (empty: DCMTK's
    /// 120 most common storage classes), each with `transferSyntaxes` (empty: the uncompressed ones).
    /// `networkProtocol` when the peer cannot be reached, refuses or stays silent.
    public static func get(peer: StoreSCU.Peer, model: String, query: [(DicomTag, String)], sopClasses: [String],
                           transferSyntaxes: [String], incomingFolder: String, answerTimeout: Duration,
                           handler: @escaping @Sendable (ReceivedInstance) -> StoreHandling) throws(TesseraError) -> MoveResult {
        final class Receiver {
            let handler: @Sendable (ReceivedInstance) -> StoreHandling
            let answerTimeout: Duration
            init(handler: @escaping @Sendable (ReceivedInstance) -> StoreHandling, answerTimeout: Duration) {
                self.handler = handler
                self.answerTimeout = answerTimeout
            }
        }
        let receiver = Receiver(handler: handler, answerTimeout: answerTimeout)
        var status: UInt16 = 0
        var counts: (UInt16, UInt16, UInt16) = (0, 0, 0)
        let failure = withQuery(peer: peer, query: query) { options, tags, values, count, error in
            withExtendedLifetime(receiver) {
                withUnsafeMutablePointer(to: &counts) { pointer in
                    pointer.withMemoryRebound(to: UInt16.self, capacity: 3) { suboperations in
                        StoreSCU.withCStrings(sopClasses) { classPointers in
                            StoreSCU.withCStrings(transferSyntaxes) { syntaxPointers in
                                cdicom_get(options, model, tags, values, count, classPointers, sopClasses.count,
                                           syntaxPointers, transferSyntaxes.count, incomingFolder, { context, raw in
                                    guard let context, let instance = ReceivedInstance(raw) else {
                                        return DimseStatus.cannotUnderstand.rawValue
                                    }
                                    let receiver = Unmanaged<Receiver>.fromOpaque(context).takeUnretainedValue()
                                    switch receiver.handler(instance) {
                                    case .answer(let status):
                                        return status.rawValue
                                    case .then(let work):
                                        let request = StoreSCP.StoreRequest(work)
                                        Task { request.complete(await request.work()) }
                                        return request.wait(timeout: receiver.answerTimeout).rawValue
                                    }
                                }, Unmanaged.passUnretained(receiver).toOpaque(), &status, suboperations, error, 512)
                            }
                        }
                    }
                }
            }
        }
        if let failure {
            throw TesseraError(.networkProtocol, details: "DicomAssociation - C-GET to AET \"\(peer.calledAET)\": \(failure)")
        }
        return MoveResult(status: status, completed: Int(counts.0), failed: Int(counts.1), warning: Int(counts.2))
    }

    /// Calls `body` with the C forms of the peer and the query; returns the error text when it returns non-zero.
    private static func withQuery(peer: StoreSCU.Peer, query: [(DicomTag, String)],
                                  _ body: (UnsafePointer<cdicom_scu_options>, UnsafePointer<UInt32>, UnsafePointer<UnsafePointer<CChar>?>, Int,
                                           UnsafeMutablePointer<CChar>) -> Int32) -> String? {
        let tags = query.map { UInt32($0.0.group) << 16 | UInt32($0.0.element) }
        let values: [UnsafeMutablePointer<CChar>?] = query.map { strdup($0.1) }
        defer { values.forEach { free($0) } }
        var error = [CChar](repeating: 0, count: 512)
        let result: Int32 = peer.withOptions { options in
            let constValues = values.map { $0.map { UnsafePointer($0) } }
            return tags.withUnsafeBufferPointer { tagBuffer in
                constValues.withUnsafeBufferPointer { valueBuffer in
                    error.withUnsafeMutableBufferPointer { errorBuffer in
                        // The query always has at least QueryRetrieveLevel.
                        guard let tags = tagBuffer.baseAddress, let values = valueBuffer.baseAddress,
                              let error = errorBuffer.baseAddress else { return -1 }
                        return body(options, tags, values, query.count, error)
                    }
                }
            }
        }
        if result == -1 { return "an empty query" }
        return result == 0 ? nil : StoreSCP.text(error)
    }
}
