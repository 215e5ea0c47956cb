import DICOM
import Logging
import Metrics
import Model

/// The gateway's query/retrieve side and its access rules: decides which peers may associate and ask what (Orthanc's
/// `DicomAlwaysAllow...`, the modalities' `Allow...` flags, `DicomCheckModalityHost`), and hands each C-FIND,
/// C-MOVE and C-GET to its handler.
public struct QueryRetrieveService: Sendable {
    let find: DicomFindHandler
    let move: DicomMoveHandler
    let get: DicomGetHandler
    let directory: ModalityDirectory
    let rules: DicomAccessRules
    let logger: Logger

    public init(find: DicomFindHandler, move: DicomMoveHandler, get: DicomGetHandler, directory: ModalityDirectory,
                rules: DicomAccessRules, logger: Logger) {
        self.find = find
        self.move = move
        self.get = get
        self.directory = directory
        self.rules = rules
        self.logger = logger
    }

    /// Whether the peer may open the association (`request` nil) or send the request; a refusal is logged.
    public func allows(_ access: AssociationAccess) -> Bool {
        if access.established { return true }
        // Every C-STORE asks: an always-allowed request needs no look at the modalities.
        if let request = access.request, rules.alwaysAllowed.contains(request) { return true }
        let modalities = directory.modalities.values
        let allowed = access.request.map {
            rules.allows($0, callingAET: access.callingAET, ip: access.peerIP, modalities: modalities)
        } ?? rules.allowsConnection(callingAET: access.callingAET, ip: access.peerIP, modalities: modalities)
        if access.request == nil {
            Counter(label: "tessera_dicom_associations_total", dimensions: [("result", allowed ? "accepted" : "refused")]).increment()
        }
        if !allowed {
            Counter(label: "tessera_dicom_refused_total", dimensions: [("request", access.request?.rawValue ?? "Association")]).increment()
            logger.info("DICOM peer refused", metadata: [
                "request": "\(access.request?.rawValue ?? "association")", "callingAET": "\(access.callingAET)",
                "peer": "\(access.peerIP)"])
        }
        return allowed
    }

    /// Answers one request (the SCP's query handler).
    public func handle(_ request: QueryRetrieveRequest, responder: QueryRetrieveResponder) async -> QueryRetrieveOutcome {
        let started = ContinuousClock.now
        let outcome: QueryRetrieveOutcome
        let name: String
        switch request.command {
        case .find:
            name = "C-FIND"
            outcome = await find.handle(request, responder: responder)
        case .move:
            name = "C-MOVE"
            outcome = await move.handle(request, responder: responder)
        case .get:
            name = "C-GET"
            outcome = await get.handle(request, responder: responder)
        }
        let elapsed = ContinuousClock.now - started
        Timer(label: "tessera_dicom_request_duration_seconds", dimensions: [("command", name)])
            .recordNanoseconds(elapsed.totalNanoseconds)
        let orthancMetric = switch request.command {
        case .find: OrthancMetrics.findSCPDuration
        case .move: OrthancMetrics.moveSCPDuration
        case .get: OrthancMetrics.getSCPDuration
        }
        orthancMetric.record(OrthancMetrics.milliseconds(elapsed))
        Counter(label: "tessera_dicom_requests_total", dimensions: [("command", name), ("status", outcome.status.description)]).increment()
        logger.debug("DICOM request answered", metadata: [
            "association": "\(request.associationID)", "command": "\(name)", "callingAET": "\(request.callingAET)",
            "status": "\(outcome.status.description)", "milliseconds": "\(Int(OrthancMetrics.milliseconds(elapsed)))"])
        return outcome
    }
}
