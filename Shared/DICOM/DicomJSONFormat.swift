/// The three shapes in which Orthanc prints a dataset as JSON (`/tags`, `/tags?short`, `/tags?simplify`).
public enum DicomJSONFormat: Sendable {
    /// `{"0010,0010": {"Name": "PatientName", "Type": "String", "Value": "..."}}`, with `PrivateCreator` for
    /// private tags and `Type` one of String, Null (binary), TooLong, Sequence.
    case full
    /// `{"0010,0010": "..."}`: values only, null for binary and too-long values.
    case short
    /// `{"PatientName": "..."}`: keyed by dictionary name (a later element wins when two share a name).
    case human
}
