import Model

/// The AE title and timeout of an outbound DICOM call, as Orthanc chooses them: the request body's, else the
/// modality's, else the configuration's.
struct ScuDefaults {
    let configuration: TesseraConfiguration

    init(_ configuration: TesseraConfiguration) {
        self.configuration = configuration
    }

    /// `LocalAet` of the body, else the modality's, else `DicomAet`.
    func localAet(body: JSONValue, remote: ModalityConfiguration) -> String {
        if let aet = body["LocalAet"]?.stringValue, !aet.isEmpty { return aet }
        return remote.localAet.isEmpty ? configuration.dicomAet : remote.localAet
    }

    /// `Timeout` of the body (0: none), else the modality's, else `DicomScuTimeout`.
    func timeout(body: JSONValue, remote: ModalityConfiguration) throws -> Int {
        if let value = body["Timeout"] {
            guard let seconds = value.intValue, seconds >= 0 else {
                throw TesseraError(.badFileFormat, details: "Positive integer expected in field: Timeout")
            }
            return seconds
        }
        return remote.timeout > 0 ? remote.timeout : configuration.dicomScuTimeout
    }
}
