/// A remote DICOM modality, as Orthanc's `DicomModalities` entries and `PUT /modalities/{id}` bodies declare it:
/// the short form `["AET", "host", port(, "manufacturer")]` or the long form with the `Allow...` switches.
public struct ModalityConfiguration: RemoteEndpoint, Hashable {
    public var aet: String
    public var host: String
    public var port: Int
    /// `Manufacturer` (Orthanc's spelling; obsolete names Orthanc maps to `Generic` are kept as `Generic`).
    public var manufacturer = "Generic"
    public var allowEcho = true
    public var allowFind = true
    public var allowFindWorklist = true
    public var allowGet = true
    public var allowMove = true
    public var allowStore = true
    /// `AllowStorageCommitment` sets both.
    public var allowNAction = true
    public var allowEventReport = true
    public var allowTranscoding = true
    public var useDicomTls = false
    /// `LocalAet`: our AE title towards this modality (empty: `DicomAet`).
    public var localAet = ""
    /// `Timeout` in seconds (0: `DicomScuTimeout`).
    public var timeout = 0
    /// `RetrieveMethod` (Orthanc 1.12.6): `C-MOVE`, `C-GET`, or `SystemDefault` (`DicomDefaultRetrieveMethod`).
    public var retrieveMethod = "SystemDefault"

    /// The values `RetrieveMethod` and `DicomDefaultRetrieveMethod` take (the latter without `SystemDefault`).
    public static let retrieveMethods: Set<String> = ["C-MOVE", "C-GET", "SystemDefault"]

    public init(aet: String, host: String, port: Int) {
        self.aet = aet
        self.host = host
        self.port = port
    }

    /// The manufacturers Orthanc knows; the obsolete ones it accepts and treats as `Generic`.
    public static let manufacturers: Set<String> = ["Generic", "GenericNoWildcardInDates", "GenericNoUniversalWildcard",
                                                    "StoreScp", "Vitrea", "GE"]
    static let obsoleteManufacturers: Set<String> = ["AgfaImpax", "EFilm2", "SyngoVia", "MedInria", "ClearCanvas",
                                                     "Dcm4Chee"]

    /// Reads either form; `badFileFormat` (Orthanc's 400) naming the field that is wrong.
    public init(json: JSONValue) throws(TesseraError) {
        switch json {
        case .array(let items):
            guard (3...4).contains(items.count) else {
                throw Self.bad("A modality must be [AET, host, port] or [AET, host, port, manufacturer]")
            }
            guard let aet = items[0].stringValue else { throw Self.bad("String value expected for the AET") }
            guard let host = items[1].stringValue else { throw Self.bad("String value expected for the host") }
            self.init(aet: aet, host: host, port: try Self.port(items[2]))
            if items.count == 4 {
                guard let manufacturer = items[3].stringValue else { throw Self.bad("String value expected for the manufacturer") }
                self.manufacturer = try Self.manufacturer(manufacturer)
            }
        case .object(let members):
            func string(_ key: String) throws(TesseraError) -> String? {
                guard let value = members[key] else { return nil }
                guard let text = value.stringValue else { throw Self.bad("String value expected in field: \(key)") }
                return text
            }
            func flag(_ key: String) throws(TesseraError) -> Bool? {
                guard let value = members[key] else { return nil }
                guard case .bool(let flag) = value else { throw Self.bad("Boolean value expected in field: \(key)") }
                return flag
            }
            guard let aet = try string("AET") else { throw Self.bad("String value expected in field: AET") }
            guard let host = try string("Host") else { throw Self.bad("String value expected in field: Host") }
            guard let port = members["Port"] else { throw Self.bad("Missing field: Port") }
            self.init(aet: aet, host: host, port: try Self.port(port))
            if let manufacturer = try string("Manufacturer") { self.manufacturer = try Self.manufacturer(manufacturer) }
            allowEcho = try flag("AllowEcho") ?? allowEcho
            allowFind = try flag("AllowFind") ?? allowFind
            allowFindWorklist = try flag("AllowFindWorklist") ?? allowFindWorklist
            allowGet = try flag("AllowGet") ?? allowGet
            allowMove = try flag("AllowMove") ?? allowMove
            allowStore = try flag("AllowStore") ?? allowStore
            if let commitment = try flag("AllowStorageCommitment") {
                allowNAction = commitment
                allowEventReport = commitment
            }
            allowNAction = try flag("AllowNAction") ?? allowNAction
            allowEventReport = try flag("AllowEventReport") ?? allowEventReport
            allowTranscoding = try flag("AllowTranscoding") ?? allowTranscoding
            useDicomTls = try flag("UseDicomTls") ?? useDicomTls
            localAet = try string("LocalAet") ?? localAet
            if let value = members["Timeout"] {
                guard let seconds = value.intValue, seconds >= 0 else { throw Self.bad("Positive integer expected in field: Timeout") }
                timeout = seconds
            }
            if let method = try string("RetrieveMethod") {
                guard Self.retrieveMethods.contains(method) else {
                    throw Self.bad("RetrieveMethod must be C-MOVE, C-GET or SystemDefault: \(method)")
                }
                retrieveMethod = method
            }
        default:
            throw Self.bad("A modality must be a JSON array or object")
        }
        guard !aet.isEmpty, aet.utf8.count <= 16 else { throw Self.bad("An AE title must have 1 to 16 characters: \(aet)") }
        guard localAet.utf8.count <= 16 else { throw Self.bad("An AE title must have at most 16 characters: \(localAet)") }
        guard !host.isEmpty else { throw Self.bad("The host of a modality cannot be empty") }
    }

    /// Orthanc's long form, as `GET /modalities?expand` and `/modalities/{id}/configuration` print it.
    public var json: JSONValue {
        .object([
            "AET": .string(aet), "Host": .string(host), "Port": .number(Double(port)), "Manufacturer": .string(manufacturer),
            "AllowEcho": .bool(allowEcho), "AllowFind": .bool(allowFind), "AllowFindWorklist": .bool(allowFindWorklist),
            "AllowGet": .bool(allowGet), "AllowMove": .bool(allowMove), "AllowStore": .bool(allowStore),
            "AllowNAction": .bool(allowNAction), "AllowEventReport": .bool(allowEventReport),
            "AllowTranscoding": .bool(allowTranscoding), "UseDicomTls": .bool(useDicomTls),
            "LocalAet": .string(localAet), "Timeout": .number(Double(timeout)), "RetrieveMethod": .string(retrieveMethod),
        ])
    }

    public static let collection = "modalities"

    public static func unknown(_ name: String) -> TesseraError {
        TesseraError(.inexistentItem, details: "No modality with symbolic name: \(name)")
    }

    public static func unknownOnDeletion(_ name: String) -> TesseraError {
        TesseraError(.inexistentItem, details: "Unknown DICOM modality with symbolic name: \(name)")
    }

    private static func port(_ value: JSONValue) throws(TesseraError) -> Int {
        guard let port = value.intValue, (1...65_535).contains(port) else { throw bad("The port of a modality must be between 1 and 65535") }
        return port
    }

    private static func manufacturer(_ name: String) throws(TesseraError) -> String {
        if manufacturers.contains(name) { return name }
        if obsoleteManufacturers.contains(name) { return "Generic" }
        throw TesseraError(.parameterOutOfRange, details: "Unknown modality manufacturer: \(name)")
    }

    private static func bad(_ details: String) -> TesseraError {
        TesseraError(.badFileFormat, details: details)
    }
}
