/// Which datashare an association sends to, as the edge receiver decides from its AE titles: a datashare whose
/// substitute called AE title is the called one; else the datashare whose ID is the called AE title (unless it is
/// selected by calling AE title); else a datashare selected by the calling AE title; else none (the association is
/// aborted). AE titles compare as DICOM pads them: trailing spaces aside.
public struct DatashareSelector: Sendable {
    public let shares: [String: DatashareConfiguration]

    public init(shares: [String: DatashareConfiguration]) {
        self.shares = shares
    }

    /// The datashare ID, or nil.
    public func select(calledAET: String, callingAET: String) -> String? {
        let called = Self.trimmed(calledAET), calling = Self.trimmed(callingAET)
        let ordered = shares.sorted { $0.key < $1.key }
        if let (id, _) = ordered.first(where: { $0.value.calledAet.map(Self.trimmed) == called }) { return id }
        if let share = shares[called], share.calledAet == nil, share.callingAet == nil { return called }
        if let (id, _) = ordered.first(where: { $0.value.callingAet.map(Self.trimmed) == calling }) { return id }
        return nil
    }

    static func trimmed(_ aet: String) -> String {
        var text = Substring(aet)
        while text.last == " " { text = text.dropLast() }
        while text.first == " " { text = text.dropFirst() }
        return String(text)
    }
}
