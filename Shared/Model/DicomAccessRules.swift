/// Which peers may do what on the DICOM server, as Orthanc's `OrthancApplicationEntityFilter` decides: the
/// `DicomAlwaysAllow...` options, the known modalities with their `Allow...` flags, `DicomCheckModalityHost` and
/// `StrictAetComparison`.
public struct DicomAccessRules: Sendable, Hashable {
    /// A DIMSE request, as the rules name it.
    public enum Request: String, Sendable, Hashable, CaseIterable {
        case echo = "Echo", store = "Store", find = "Find", findWorklist = "FindWorklist", get = "Get", move = "Move"
        case nAction = "NAction", eventReport = "EventReport"
    }

    /// Requests allowed from any calling AE title (`DicomAlwaysAllowEcho`, `...Store` by default).
    public var alwaysAllowed: Set<Request> = [.echo, .store]
    /// `DicomCheckModalityHost`: a known AE title counts only from its modality's `Host` (compared as text).
    public var checkModalityHost = false
    /// `StrictAetComparison`: AE titles compare case-sensitively.
    public var strictAetComparison = false

    public init() {}

    /// Orthanc's `IsAllowedConnection`: any association when some request is always allowed, else only from a known
    /// modality (host checked when asked).
    public func allowsConnection(callingAET: String, ip: String, modalities: some Collection<ModalityConfiguration>) -> Bool {
        guard alwaysAllowed.isEmpty else { return true }
        return modalities.contains { sameAET($0.aet, callingAET) && (!checkModalityHost || $0.host == ip) }
    }

    /// Orthanc's `IsAllowedRequest` (1.10.1): always allowed, else decided by the modalities with the calling AE
    /// title: one decides by its flag (when its host matches, if checked); of several, one that allows the request
    /// from a matching host, else all of them allowing it.
    public func allows(_ request: Request, callingAET: String, ip: String,
                       modalities: some Collection<ModalityConfiguration>) -> Bool {
        if alwaysAllowed.contains(request) { return true }
        let matching = modalities.filter { sameAET($0.aet, callingAET) }
        switch matching.count {
        case 0:
            return false
        case 1:
            let modality = matching[0]
            if checkModalityHost && modality.host != ip { return false }
            return modality.allows(request)
        default:
            if checkModalityHost, matching.contains(where: { $0.host == ip && $0.allows(request) }) { return true }
            return matching.allSatisfy { $0.allows(request) }
        }
    }

    /// The modality answering to an AE title (the first by symbolic name, as Orthanc's ordered map gives it).
    public func modality(aet: String, in modalities: [String: ModalityConfiguration]) -> (name: String, ModalityConfiguration)? {
        modalities.sorted { $0.key < $1.key }.first { sameAET($0.value.aet, aet) }.map { ($0.key, $0.value) }
    }

    public func sameAET(_ first: String, _ second: String) -> Bool {
        strictAetComparison ? first == second : first.uppercased() == second.uppercased()
    }
}

extension ModalityConfiguration {
    /// The modality's `Allow...` flag for a request.
    public func allows(_ request: DicomAccessRules.Request) -> Bool {
        switch request {
        case .echo: allowEcho
        case .store: allowStore
        case .find: allowFind
        case .findWorklist: allowFindWorklist
        case .get: allowGet
        case .move: allowMove
        case .nAction: allowNAction
        case .eventReport: allowEventReport
        }
    }
}
