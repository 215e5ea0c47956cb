/// Orthanc's rule for label names: 1 to 64 characters among ASCII letters, digits, `_` and `-`.
public enum LabelName {
    public static let maximumLength = 64

    public static func isValid(_ label: String) -> Bool {
        !label.isEmpty && label.utf8.count <= maximumLength
            && label.utf8.allSatisfy { byte in
                byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-") || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                    || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
            }
    }

    /// Throws Orthanc's error for an invalid label.
    public static func validate(_ label: String) throws(TesseraError) {
        guard isValid(label) else {
            throw TesseraError(.parameterOutOfRange, details: "A label can only contain alphanumeric characters, dashes and underscores, and must not exceed \(maximumLength) characters: \(label)")
        }
    }
}
