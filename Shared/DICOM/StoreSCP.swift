import CDICOM
import Dispatch
import Foundation
import Model

/// The multi-association DICOM SCP: C-ECHO and C-STORE, and, when asked, storage commitment reports, C-FIND, C-MOVE
/// and C-GET (one thread per association, see `Shared/CDICOM/scp.cpp`).
///
/// Each C-STORE's dataset is written by DCMTK to an incoming file as it arrives (no parsing, no re-encoding), then the
/// `handler` given to ``run(handler:)`` is called on that association's DCMTK thread, where blocking work is fine; it
/// answers at once or hands an asynchronous part to Swift's concurrency, whose DIMSE status the modality gets.
/// Every request gets an answer: those still waiting when the server stops are answered "out of resources". One SCP
/// per process.
public final class StoreSCP: Sendable {
    private let handle: Handle
    private let sink: Sink

    /// Creates the SCP; nothing listens until ``run(handler:)``. Throws when the association profile is invalid.
    public init(options: StoreSCPOptions) throws(TesseraError) {
        guard (1...65_535).contains(options.port) else {
            throw TesseraError(.parameterOutOfRange, message: "Bad DICOM port", details: "\(options.port)")
        }
        let sink = Sink(answerTimeout: .seconds(max(1, options.answerTimeoutSeconds)))
        let context = Unmanaged.passUnretained(sink).toOpaque()
        var error = [CChar](repeating: 0, count: 512)
        // C strings that live until cdicom_scp_create has copied them.
        let syntaxes = options.transferSyntaxes.map { strdup($0) }
        defer { syntaxes.forEach { free($0) } }
        let created: OpaquePointer? = options.aeTitle.withCString { aet in
            options.incomingFolder.withCString { incoming in
                syntaxes.map { UnsafePointer($0) }.withUnsafeBufferPointer { list in
                    var raw = cdicom_scp_options()
                    raw.port = UInt16(options.port)
                    raw.ae_title = aet
                    raw.max_associations = UInt16(clamping: max(1, options.maximumAssociations))
                    raw.transfer_syntaxes = list.baseAddress
                    raw.transfer_syntax_count = list.count
                    raw.check_called_aet = options.checkCalledAET ? 1 : 0
                    raw.acse_timeout_seconds = UInt32(clamping: options.timeoutSeconds)
                    raw.dimse_timeout_seconds = UInt32(clamping: options.timeoutSeconds)
                    raw.operation_timeout_seconds = UInt32(clamping: options.operationTimeoutSeconds)
                    raw.max_pdu = UInt32(clamping: options.maximumPDULength)
                    raw.incoming_folder = incoming
                    return cdicom_scp_create(&raw, storeCallback, context, &error, error.count)
                }
            }
        }
        guard let created else {
            throw TesseraError(.networkError, message: "Cannot start the DICOM server", details: Self.text(error))
        }
        self.handle = Handle(pointer: created)
        self.sink = sink
    }

    deinit {
        cdicom_scp_destroy(handle.pointer)
    }

    /// Accepts associations until ``stop()`` or task cancellation, calling `handler` for each received instance (on
    /// the receiving association's thread, concurrently across associations). Returns once every association has
    /// ended and every request has been answered. Throws when the port cannot be bound.
    ///
    /// With `commitment`, storage commitment reports (N-EVENT-REPORT of the Storage Commitment Push Model) are accepted
    /// too: each is read (``StorageCommitmentReport/init(eventReport:eventType:callingAET:)``) and handed to
    /// `commitment` on the association's thread; its status is the answer (0x0110 when the report cannot be read).
    ///
    /// With `access`, every association and request is checked first: a refused association is rejected ("calling AE
    /// title not recognized"), a refused request aborts its association, as Orthanc does.
    ///
    /// With `query`, C-FIND, C-MOVE and C-GET are accepted too (Patient Root and Study Root): `query` answers each
    /// through its responder (pending responses, C-GET's sub-operations) and returns the final response.
    public func run(handler: @escaping @Sendable (ReceivedInstance) -> StoreHandling,
                    commitment: (@Sendable (StorageCommitmentReport) -> DimseStatus)? = nil,
                    query: QueryHandler? = nil,
                    access: (@Sendable (AssociationAccess) -> Bool)? = nil) async throws {
        let (requests, continuation) = AsyncStream<Work>.makeStream(bufferingPolicy: .unbounded)
        sink.attach(continuation, handler: handler)
        if let commitment {
            sink.commitment = commitment
            cdicom_scp_set_commitment_callback(handle.pointer, commitmentCallback)
        }
        if let query {
            sink.query = query
            cdicom_scp_set_qr_callback(handle.pointer, queryCallback)
        }
        if let access {
            sink.access = access
            cdicom_scp_set_access_callback(handle.pointer, accessCallback)
        }
        defer { sink.detach() }
        try await withTaskCancellationHandler {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { [handle] in
                    try await Self.acceptLoop(handle, finishing: continuation)
                }
                group.addTask {
                    // Discarding: a long-running server must not keep every finished handler's task around.
                    await withDiscardingTaskGroup { handlers in
                        for await work in requests {
                            handlers.addTask { await work() }
                        }
                    }
                }
                try await group.waitForAll()
            }
        } onCancel: {
            stop()
        }
    }

    /// Stops accepting associations; ``run(handler:)`` returns after the current ones end. Associations that send
    /// another request are refused it and released, so stopping takes at most about one DIMSE timeout.
    public func stop() {
        cdicom_scp_stop(handle.pointer)
    }

    /// Replaces the transfer syntaxes accepted for storage by new associations (none: C-STORE refused, as Orthanc's
    /// "C-STORE SCP is disabled").
    public func setAcceptedTransferSyntaxes(_ syntaxes: [String]) {
        StoreSCU.withCStrings(syntaxes) { pointers in
            cdicom_scp_set_accepted_syntaxes(handle.pointer, pointers, pointers.count)
        }
    }

    /// Whether new associations accept SOP classes DCMTK does not know (Orthanc's `UnknownSopClassAccepted`).
    public func setUnknownSOPClassesAccepted(_ accepted: Bool) {
        cdicom_scp_set_unknown_sop_classes_accepted(handle.pointer, accepted ? 1 : 0)
    }

    /// Associations currently open.
    public var activeAssociations: Int {
        Int(cdicom_scp_active_associations(handle.pointer))
    }

    /// Answers a C-FIND, C-MOVE or C-GET: pending responses through the responder, the final one returned.
    public typealias QueryHandler = @Sendable (QueryRetrieveRequest, QueryRetrieveResponder) async -> QueryRetrieveOutcome

    /// The asynchronous part of a request, run in the server's task group.
    typealias Work = @Sendable () async -> Void

    private static func acceptLoop(_ handle: Handle, finishing continuation: AsyncStream<Work>.Continuation) async throws {
        let failure: String? = await withCheckedContinuation { done in
            let thread = Thread {
                var error = [CChar](repeating: 0, count: 512)
                let status = cdicom_scp_run(handle.pointer, &error, error.count)
                continuation.finish()
                done.resume(returning: status == 0 ? nil : text(error))
            }
            thread.name = "dicom-scp-accept"
            thread.start()
        }
        if let failure {
            throw TesseraError(.networkError, message: "The DICOM server stopped", details: failure)
        }
    }

    static func text(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension StoreSCP {
    /// The C handle; DCMTK's pool synchronizes its own state.
    struct Handle: @unchecked Sendable {
        let pointer: OpaquePointer
    }

    /// Where the C callback finds the Swift side, and the requests still waiting for an answer.
    final class Sink: @unchecked Sendable {
        /// How long a DCMTK thread waits for a request's answer.
        let answerTimeout: Duration
        /// Set once, before the server runs.
        var commitment: (@Sendable (StorageCommitmentReport) -> DimseStatus)?
        /// Set once, before the server runs.
        var query: QueryHandler?
        /// Set once, before the server runs.
        var access: (@Sendable (AssociationAccess) -> Bool)?
        private let lock = NSLock()

        init(answerTimeout: Duration) {
            self.answerTimeout = answerTimeout
        }
        private var continuation: AsyncStream<Work>.Continuation?
        private var handler: (@Sendable (ReceivedInstance) -> StoreHandling)?
        private var outstanding: [ObjectIdentifier: StoreRequest] = [:]
        private var channels: [ObjectIdentifier: QueryChannel] = [:]

        func attach(_ continuation: AsyncStream<Work>.Continuation,
                    handler: @escaping @Sendable (ReceivedInstance) -> StoreHandling) {
            lock.withLock {
                self.continuation = continuation
                self.handler = handler
            }
        }

        /// No more requests are taken; those not answered yet get "out of resources" (their modality retries).
        func detach() {
            let (waiting, queries): ([StoreRequest], [QueryChannel]) = lock.withLock {
                continuation = nil
                handler = nil
                defer { outstanding = [:]; channels = [:] }
                return (Array(outstanding.values), Array(channels.values))
            }
            waiting.forEach { $0.complete(.outOfResources) }
            queries.forEach { $0.abandon(.failure(.unableToProcess, "The DICOM server is stopping")) }
        }

        var currentHandler: (@Sendable (ReceivedInstance) -> StoreHandling)? { lock.withLock { handler } }

        /// Queues the asynchronous part of a request; false when the server is stopping.
        func submit(_ request: StoreRequest) -> Bool {
            let accepted: Bool = lock.withLock {
                guard let continuation, case .enqueued = continuation.yield({ request.complete(await request.work()) }) else {
                    return false
                }
                outstanding[ObjectIdentifier(request)] = request
                return true
            }
            return accepted
        }

        /// Queues a query's handler, whose answers go through `channel`; false when the server is stopping.
        func submit(_ channel: QueryChannel, _ work: @escaping Work) -> Bool {
            lock.withLock {
                guard let continuation, case .enqueued = continuation.yield(work) else { return false }
                channels[ObjectIdentifier(channel)] = channel
                return true
            }
        }

        func finished(_ channel: QueryChannel) {
            _ = lock.withLock { channels.removeValue(forKey: ObjectIdentifier(channel)) }
        }

        func finished(_ request: StoreRequest) {
            _ = lock.withLock { outstanding.removeValue(forKey: ObjectIdentifier(request)) }
        }
    }

    /// One C-STORE waiting for its answer; the DCMTK thread blocks on it.
    final class StoreRequest: @unchecked Sendable {
        let work: @Sendable () async -> DimseStatus
        private let done = DispatchSemaphore(value: 0)
        private let lock = NSLock()
        private var status: DimseStatus?

        init(_ work: @escaping @Sendable () async -> DimseStatus) {
            self.work = work
        }

        /// Sets the answer; the first one wins.
        func complete(_ status: DimseStatus) {
            let first: Bool = lock.withLock {
                guard self.status == nil else { return false }
                self.status = status
                return true
            }
            if first { done.signal() }
        }

        /// Blocks the calling (DCMTK) thread until the request is answered, at most `timeout` ("out of resources"
        /// then: the answer will not come, whatever holds it up).
        func wait(timeout: Duration) -> DimseStatus {
            let nanoseconds = Int(clamping: timeout.totalNanoseconds)
            if done.wait(timeout: .now() + .nanoseconds(nanoseconds)) == .timedOut {
                complete(.outOfResources)
            }
            return lock.withLock { status ?? .outOfResources }
        }
    }
}

/// Runs on a DCMTK worker thread for each C-STORE whose dataset was written to an incoming file.
private func storeCallback(_ context: UnsafeMutableRawPointer?, _ raw: UnsafePointer<cdicom_received_instance>?) -> UInt16 {
    guard let context, let instance = ReceivedInstance(raw) else { return DimseStatus.cannotUnderstand.rawValue }
    let sink = Unmanaged<StoreSCP.Sink>.fromOpaque(context).takeUnretainedValue()
    guard let handler = sink.currentHandler else {
        unlink(instance.path)
        return DimseStatus.outOfResources.rawValue
    }
    switch handler(instance) {
    case .answer(let status):
        return status.rawValue
    case .then(let work):
        let request = StoreSCP.StoreRequest(work)
        guard sink.submit(request) else { return DimseStatus.outOfResources.rawValue }
        let status = request.wait(timeout: sink.answerTimeout)
        sink.finished(request)
        return status.rawValue
    }
}

/// Runs on a DCMTK worker thread for each storage commitment report.
private func commitmentCallback(_ context: UnsafeMutableRawPointer?, _ calling: UnsafePointer<CChar>?, _ eventType: UInt16,
                                _ bytes: UnsafePointer<UInt8>?, _ length: Int) -> UInt16 {
    let processingFailure: UInt16 = 0x0110
    guard let context, let bytes else { return processingFailure }
    let sink = Unmanaged<StoreSCP.Sink>.fromOpaque(context).takeUnretainedValue()
    guard let commitment = sink.commitment else { return processingFailure }
    do throws(TesseraError) {
        let report = try StorageCommitmentReport(eventReport: Array(UnsafeBufferPointer(start: bytes, count: length)),
                                                 eventType: eventType, callingAET: calling.map { String(cString: $0) } ?? "")
        return commitment(report).rawValue
    } catch {
        return processingFailure
    }
}

/// Runs on a DCMTK worker thread for each C-FIND, C-MOVE and C-GET: the handler runs on Swift's concurrency while this
/// thread carries its answers out.
private func queryCallback(_ context: UnsafeMutableRawPointer?, _ qr: OpaquePointer?, _ raw: UnsafePointer<cdicom_qr_request>?) {
    guard let context, let qr else { return }
    let sink = Unmanaged<StoreSCP.Sink>.fromOpaque(context).takeUnretainedValue()
    guard let request = QueryRetrieveRequest(raw), let handler = sink.query else {
        QueryChannel.finish(qr, .failure(.unableToProcess, "The request cannot be read"))
        return
    }
    let channel = QueryChannel()
    let responder = QueryRetrieveResponder(channel: channel)
    let submitted = sink.submit(channel) {
        let outcome = await handler(request, responder)
        _ = channel.post(.finish(outcome))
    }
    guard submitted else {
        QueryChannel.finish(qr, .failure(request.command == .find ? .findOutOfResources : .retrieveCannotPerform,
                                         "The DICOM server is stopping"))
        return
    }
    channel.serve(qr, idle: sink.answerTimeout,
                  timedOut: .failure(.unableToProcess, "No answer within \(sink.answerTimeout)"))
    sink.finished(channel)
}

/// Runs on a DCMTK thread before each association and request.
private func accessCallback(_ context: UnsafeMutableRawPointer?, _ request: Int32, _ calling: UnsafePointer<CChar>?,
                            _ called: UnsafePointer<CChar>?, _ peer: UnsafePointer<CChar>?) -> Int32 {
    guard let context else { return 0 }
    let sink = Unmanaged<StoreSCP.Sink>.fromOpaque(context).takeUnretainedValue()
    guard let access = sink.access else { return 1 }
    guard let asked = AssociationAccess(request: request, callingAET: calling, calledAET: called, peerIP: peer) else { return 0 }
    return access(asked) ? 1 : 0
}
