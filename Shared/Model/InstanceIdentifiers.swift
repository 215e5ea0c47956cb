/// The four DICOM identifiers that place an instance in Orthanc's resource tree, and the public IDs derived from them.
public struct InstanceIdentifiers: Sendable, Hashable, Codable {
    public var patientID: String
    public var studyInstanceUID: String
    public var seriesInstanceUID: String
    public var sopInstanceUID: String

    /// Creates the identifiers; the UIDs must not be empty (Orthanc rejects such files as `BadFileFormat`).
    public init(patientID: String, studyInstanceUID: String, seriesInstanceUID: String, sopInstanceUID: String) throws(TesseraError) {
        guard !studyInstanceUID.isEmpty, !seriesInstanceUID.isEmpty, !sopInstanceUID.isEmpty else {
            // Orthanc answers a file without them with "Inexistent tag" (HTTP 404).
            throw TesseraError(.inexistentTag, details: "Missing StudyInstanceUID, SeriesInstanceUID or SOPInstanceUID")
        }
        self.patientID = patientID
        self.studyInstanceUID = studyInstanceUID
        self.seriesInstanceUID = seriesInstanceUID
        self.sopInstanceUID = sopInstanceUID
    }

    /// `SHA1(PatientID)`.
    public var patientPublicID: PublicID { .hashing(patientID) }
    /// `SHA1(PatientID|StudyInstanceUID)`.
    public var studyPublicID: PublicID { .hashing("\(patientID)|\(studyInstanceUID)") }
    /// `SHA1(PatientID|StudyInstanceUID|SeriesInstanceUID)`.
    public var seriesPublicID: PublicID { .hashing("\(patientID)|\(studyInstanceUID)|\(seriesInstanceUID)") }
    /// `SHA1(PatientID|StudyInstanceUID|SeriesInstanceUID|SOPInstanceUID)`.
    public var instancePublicID: PublicID {
        .hashing("\(patientID)|\(studyInstanceUID)|\(seriesInstanceUID)|\(sopInstanceUID)")
    }

    /// The public ID of the resource at `level`.
    public func publicID(at level: ResourceLevel) -> PublicID {
        switch level {
        case .patient: patientPublicID
        case .study: studyPublicID
        case .series: seriesPublicID
        case .instance: instancePublicID
        }
    }
}
