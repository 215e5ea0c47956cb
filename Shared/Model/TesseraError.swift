/// An error with an Orthanc error code, a message for the user, and optional details.
/// Every error that reaches a client maps to Orthanc's error JSON through its `code`.
public struct TesseraError: Error, Sendable, CustomStringConvertible {
    public var code: OrthancErrorCode
    public var message: String
    public var details: String?

    public init(_ code: OrthancErrorCode, message: String? = nil, details: String? = nil) {
        self.code = code
        self.message = message ?? code.description
        self.details = details
    }

    public var description: String {
        details.map { "\(message): \($0)" } ?? message
    }
}

extension TesseraError {
    /// Whether the error says a file is not a usable DICOM instance (not DICOM, truncated, beyond the structural
    /// limits, an identifier missing or too long): sending it again gives the same answer. Other errors (no memory
    /// to spare now, a file that vanished, storage or broker trouble) say nothing of the file.
    public var refusesInstance: Bool {
        [.badFileFormat, .inexistentTag, .badParameterType].contains(code)
    }
}
