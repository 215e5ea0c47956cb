import Model

/// A DIMSE response status (PS3.7 Annex C).
public struct DimseStatus: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt16

    public init(rawValue: UInt16) {
        self.rawValue = rawValue
    }

    public static let success = DimseStatus(rawValue: 0x0000)
    /// C-STORE "Refused: Out of Resources" (0xA700): the instance could not be made durable; the sender may retry.
    public static let outOfResources = DimseStatus(rawValue: 0xA700)
    /// C-STORE "Error: Data Set does not match SOP Class" (0xA900).
    public static let dataSetDoesNotMatchSOPClass = DimseStatus(rawValue: 0xA900)
    /// C-STORE "Error: Cannot understand" (0xC000): the dataset is not usable (e.g. a UID is missing).
    public static let cannotUnderstand = DimseStatus(rawValue: 0xC000)

    public var description: String { "0x" + String(rawValue, radix: 16, uppercase: true) }

    /// Whether the status says the operation failed: not Success (0x0000), a Warning (0x0001, 0x0107, 0x0116,
    /// 0xBxxx) or Pending (0xFF00, 0xFF01) (PS3.7 C.1 and C.4).
    public var isFailure: Bool {
        switch rawValue {
        case 0x0000, 0x0001, 0x0107, 0x0116, 0xFF00, 0xFF01: return false
        case 0xB000...0xBFFF: return false
        default: return true
        }
    }
}

extension DimseStatus {
    /// The C-STORE status for a failed store: "cannot understand" for a file that is not a usable instance, "out of
    /// resources" (the modality retries) when durability could not be reached.
    public static func failure(for error: TesseraError) -> DimseStatus {
        error.refusesInstance ? .cannotUnderstand : .outOfResources
    }
}
