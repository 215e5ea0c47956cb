import Model

extension InstanceSummary {
    /// Reads what the index records from a parsed file: identifiers, main tags per level, SOP class, transfer syntax.
    /// Throws `inexistentTag` when a UID needed for the public IDs is missing.
    public init(file: DicomFile) throws(TesseraError) {
        // Orthanc indexes the values it shows in /tags: UTF-8 from SpecificCharacterSet, too-long values left out.
        let dataset = file.dataset
        let charset = DicomCharset(datasetOf: file)
        func tags(_ level: ResourceLevel) -> [String: String] {
            var values: [String: String] = [:]
            for main in MainDicomTag.forLevel(level) {
                if let value = dataset.text(main.tag, charset: charset),
                   value.utf8.count <= DicomJSONRenderer.defaultMaxStringLength {
                    values[main.name] = value
                }
            }
            return values
        }
        let identifiers = try InstanceIdentifiers(
            patientID: dataset.string(.patientID) ?? "",
            studyInstanceUID: dataset.string(.studyInstanceUID) ?? "",
            seriesInstanceUID: dataset.string(.seriesInstanceUID) ?? "",
            sopInstanceUID: dataset.string(.sopInstanceUID) ?? ""
        )
        let index = dataset.integer(.instanceNumber) ?? dataset.integer(.imageIndex)
        self.init(
            identifiers: identifiers,
            patientTags: tags(.patient),
            studyTags: tags(.study),
            seriesTags: tags(.series),
            instanceTags: tags(.instance),
            sopClassUID: dataset.string(.sopClassUID),
            transferSyntaxUID: file.metaHeader.string(.transferSyntaxUID),
            indexInSeries: index.flatMap { Int(exactly: $0) }
        )
    }
}
