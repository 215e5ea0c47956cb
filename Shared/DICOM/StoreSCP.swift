import CDICOM
import Dispatch
import Foundation
import Model

/// A multi-association C-STORE and C-ECHO SCP (DCMTK's `DcmSCPPool`).
///
/// Each received instance is handed to the `handler` given to ``run(handler:)``; the DIMSE status it returns is
/// the answer the modality gets, so the handler decides when an instance counts as stored. DCMTK's threads block
/// while the handler runs; Swift's cooperative pool never does. One SCP per process.
public final class StoreSCP: Sendable {
    private let handle: Handle
    private let sink: Sink

    /// Creates the SCP; nothing listens until ``run(handler:)``. Throws when the association profile is invalid.
    public init(options: StoreSCPOptions) throws(TesseraError) {
        guard (1...65_535).contains(options.port) else {
            throw TesseraError(.parameterOutOfRange, message: "Bad DICOM port", details: "\(options.port)")
        }
        let sink = Sink()
        let context = Unmanaged.passUnretained(sink).toOpaque()
        var error = [CChar](repeating: 0, count: 512)
        // C strings that live until cdicom_scp_create has copied them.
        let syntaxes = options.transferSyntaxes.map { strdup($0) }
        defer { syntaxes.forEach { free($0) } }
        let created: OpaquePointer? = options.aeTitle.withCString { aet in
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
                raw.max_pdu = UInt32(clamping: options.maximumPDULength)
                return cdicom_scp_create(&raw, storeCallback, context, &error, error.count)
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

    /// Accepts associations until ``stop()`` or task cancellation, calling `handler` for each received instance
    /// (concurrently across associations). Returns once every association has ended and every handler has answered.
    /// Throws when the port cannot be bound.
    public func run(handler: @escaping @Sendable (ReceivedInstance) async -> DimseStatus) async throws {
        let (requests, continuation) = AsyncStream<StoreRequest>.makeStream(bufferingPolicy: .unbounded)
        sink.attach(continuation)
        try await withTaskCancellationHandler {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { [handle] in
                    try await Self.acceptLoop(handle, finishing: continuation)
                }
                group.addTask {
                    // Discarding: a long-running server must not keep every finished handler's task around.
                    await withDiscardingTaskGroup { handlers in
                        for await request in requests {
                            handlers.addTask { request.complete(await handler(request.instance)) }
                        }
                    }
                }
                try await group.waitForAll()
            }
        } onCancel: {
            stop()
        }
    }

    /// Stops accepting associations; ``run(handler:)`` returns after the current ones end (within about a second).
    public func stop() {
        cdicom_scp_stop(handle.pointer)
    }

    private static func acceptLoop(_ handle: Handle, finishing continuation: AsyncStream<StoreRequest>.Continuation) async throws {
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

    /// Where the C callback finds the Swift side. The continuation is set once, before the SCP listens.
    final class Sink: @unchecked Sendable {
        private let lock = NSLock()
        private var continuation: AsyncStream<StoreRequest>.Continuation?

        func attach(_ continuation: AsyncStream<StoreRequest>.Continuation) {
            lock.withLock { self.continuation = continuation }
        }

        func submit(_ request: StoreRequest) -> Bool {
            guard let continuation = lock.withLock({ self.continuation }) else { return false }
            if case .enqueued = continuation.yield(request) { return true }
            return false
        }
    }

    /// One C-STORE waiting for its answer; the DCMTK thread blocks on it.
    final class StoreRequest: @unchecked Sendable {
        let instance: ReceivedInstance
        private let done = DispatchSemaphore(value: 0)
        private var status = DimseStatus.outOfResources

        init(_ instance: ReceivedInstance) {
            self.instance = instance
        }

        func complete(_ status: DimseStatus) {
            self.status = status
            done.signal()
        }

        /// Blocks the calling (DCMTK) thread until the handler answered; the semaphore orders the write before the read.
        func wait() -> DimseStatus {
            done.wait()
            return status
        }
    }
}

/// Runs on a DCMTK worker thread for each C-STORE: copies the bytes, hands them to Swift, waits for the status.
private func storeCallback(_ context: UnsafeMutableRawPointer?, _ raw: UnsafePointer<cdicom_received_instance>?) -> UInt16 {
    guard let context, let raw, let bytes = raw.pointee.bytes else { return DimseStatus.cannotUnderstand.rawValue }
    let sink = Unmanaged<StoreSCP.Sink>.fromOpaque(context).takeUnretainedValue()
    func string(_ pointer: UnsafePointer<CChar>?) -> String { pointer.map { String(cString: $0) } ?? "" }
    let summary: Result<InstanceSummary, TesseraError>
    if let file = raw.pointee.file {
        summary = Result { () throws(TesseraError) in try InstanceSummary(file: DicomFile(borrowing: file)) }
    } else {
        summary = .failure(TesseraError(.badFileFormat, details: "no decoded dataset"))
    }
    let instance = ReceivedInstance(
        bytes: Array(UnsafeBufferPointer(start: bytes, count: raw.pointee.length)),
        callingAET: string(raw.pointee.calling_aet),
        calledAET: string(raw.pointee.called_aet),
        peerIP: string(raw.pointee.peer_ip),
        sopClassUID: string(raw.pointee.sop_class_uid),
        sopInstanceUID: string(raw.pointee.sop_instance_uid),
        summary: summary
    )
    let request = StoreSCP.StoreRequest(instance)
    guard sink.submit(request) else { return DimseStatus.outOfResources.rawValue }
    return request.wait().rawValue
}
