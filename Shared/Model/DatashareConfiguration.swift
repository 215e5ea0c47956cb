/// A datashare of the edge receiver: its ID (the symbolic name, also the label its instances carry) and how an
/// association selects it. By default the called AE title is the ID; a datashare may instead answer to a substitute
/// called AE title (`CalledAet`), or be selected by the calling AE title (`CallingAet`) when the sender's PACS cannot
/// set the called one.
public struct DatashareConfiguration: RemoteEndpoint, Hashable {
    /// `CalledAet`: the called AE title that selects this datashare instead of its ID.
    public var calledAet: String?
    /// `CallingAet`: the calling AE title that selects this datashare (whatever the called AE title).
    public var callingAet: String?
    /// `DiskBudget` in MB: most bytes the datashare may hold (nil: `DatashareDiskBudget`).
    public var diskBudgetMB: Int?

    public init(calledAet: String? = nil, callingAet: String? = nil, diskBudgetMB: Int? = nil) {
        self.calledAet = calledAet
        self.callingAet = callingAet
        self.diskBudgetMB = diskBudgetMB
    }

    /// `{}`, `{"CalledAet": "..."}` or `{"CallingAet": "..."}`, with an optional `DiskBudget` (MB).
    public init(json: JSONValue) throws(TesseraError) {
        guard case .object(let members) = json else { throw Self.bad("A datashare must be a JSON object") }
        for key in members.keys where !["CalledAet", "CallingAet", "DiskBudget"].contains(key) {
            throw Self.bad("Unknown field in a datashare: \(key)")
        }
        func aet(_ key: String) throws(TesseraError) -> String? {
            guard let value = members[key], value != .null else { return nil }
            guard let text = value.stringValue, !text.isEmpty, text.utf8.count <= 16 else {
                throw Self.bad("\(key) must be an AE title of 1 to 16 characters")
            }
            return text
        }
        calledAet = try aet("CalledAet")
        callingAet = try aet("CallingAet")
        if calledAet != nil && callingAet != nil {
            throw Self.bad("A datashare is selected by CalledAet or by CallingAet, not both")
        }
        if let value = members["DiskBudget"], value != .null {
            guard let megabytes = value.intValue, megabytes > 0 else { throw Self.bad("DiskBudget must be a positive number of MB") }
            diskBudgetMB = megabytes
        }
    }

    public var json: JSONValue {
        var members: [String: JSONValue] = [:]
        if let calledAet { members["CalledAet"] = .string(calledAet) }
        if let callingAet { members["CallingAet"] = .string(callingAet) }
        if let diskBudgetMB { members["DiskBudget"] = .number(Double(diskBudgetMB)) }
        return .object(members)
    }

    public static let collection = "datashares"

    /// A datashare ID is a label (its instances carry it).
    public static func validate(name: String) throws(TesseraError) {
        try LabelName.validate(name)
    }

    public static func unknown(_ name: String) -> TesseraError {
        TesseraError(.inexistentItem, details: "No datashare with ID: \(name)")
    }

    public static func unknownOnDeletion(_ name: String) -> TesseraError {
        unknown(name)
    }

    private static func bad(_ details: String) -> TesseraError {
        TesseraError(.badFileFormat, details: details)
    }
}
