import Model

extension InstanceSummary {
    /// Reads what the index records from a parsed file: identifiers, main tags per level, SOP class, transfer syntax.
    ///
    /// As Orthanc (checked against 1.10.1): every value is the text Orthanc shows, converted to UTF-8 from the
    /// dataset's SpecificCharacterSet (Latin-1 without one) and cut at the first NUL, so public IDs hash the converted
    /// identifiers; PatientID loses its trailing spaces, the UIDs their leading and trailing spaces; a value longer
    /// than 256 bytes is not kept (`TooLong`), and an identifier that long makes the file unusable (400 "Bad type for a
    /// parameter"). Throws `inexistentTag` when a UID needed for the public IDs is missing.
    public init(file: DicomFile) throws(TesseraError) {
        let dataset = file.dataset
        let charset = DicomCharset(datasetOf: file)
        let limit = DicomJSONRenderer.defaultMaxStringLength
        func tags(_ level: ResourceLevel) -> [String: String] {
            var values: [String: String] = [:]
            for main in MainDicomTag.forLevel(level) {
                if let value = dataset.text(main.tag, charset: charset), value.utf8.count <= limit {
                    values[main.name] = value
                }
            }
            return values
        }
        func identifier(_ tag: DicomTag, name: String, trimLeading: Bool) throws(TesseraError) -> String {
            guard var value = dataset.text(tag, charset: charset) else { return "" }
            // A value written with VR UN is read as Orthanc reads it, as text kept whole (its hash includes the padding).
            if dataset.valueRepresentation(tag) != "UN" {
                while value.last == " " { value.removeLast() }
                if trimLeading { while value.first == " " { value.removeFirst() } }
            }
            guard value.utf8.count <= limit else {
                throw TesseraError(.badParameterType, details: "\(name) is longer than \(limit) bytes (\(value.utf8.count))")
            }
            return value
        }
        let identifiers = try InstanceIdentifiers(
            patientID: try identifier(.patientID, name: "PatientID", trimLeading: false),
            studyInstanceUID: try identifier(.studyInstanceUID, name: "StudyInstanceUID", trimLeading: true),
            seriesInstanceUID: try identifier(.seriesInstanceUID, name: "SeriesInstanceUID", trimLeading: true),
            sopInstanceUID: try identifier(.sopInstanceUID, name: "SOPInstanceUID", trimLeading: true)
        )
        let index = dataset.integer(.instanceNumber) ?? dataset.integer(.imageIndex)
        self.init(
            identifiers: identifiers,
            patientTags: tags(.patient),
            studyTags: tags(.study),
            seriesTags: tags(.series),
            instanceTags: tags(.instance),
            sopClassUID: dataset.string(.sopClassUID),
            transferSyntaxUID: file.metaHeader.string(.transferSyntaxUID) ?? file.datasetTransferSyntax,
            indexInSeries: index.flatMap { Int(exactly: $0) }
        )
    }
}

extension InstanceSummary {
    /// Reads the summary of the DICOM file at `path` (checked and parsed by DCMTK; large values are not loaded).
    /// Blocking. Throws `badFileFormat` for a file that is not a usable DICOM instance, `badParameterType` for an
    /// identifier too long, `inexistentTag` for a missing UID; `inexistentFile` when the file cannot be opened and
    /// `serverBusy` when too much is being parsed at once (neither says anything of the file's content).
    public static func read(path: String) throws(TesseraError) -> InstanceSummary {
        let file: DicomFile
        do {
            file = try DicomFile(path: path)
        } catch where error.code == .badFileFormat {
            throw TesseraError(.badFileFormat, details: "Cannot parse an invalid DICOM file: \(error.details ?? error.message)")
        }
        return try InstanceSummary(file: file)
    }
}
