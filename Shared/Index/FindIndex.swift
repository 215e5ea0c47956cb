import Model

/// A main DICOM tag that `/tools/find` can match through an index rather than a scan of its level's table.
struct FindIndex: Sendable {
    let level: ResourceLevel
    let name: String
    /// Dates are compared as they are (ranges); text is indexed upper-cased for exact, case-insensitive and
    /// wildcard matches.
    let isDate: Bool
    /// The JSONB column holding the tag (`patient_tags` for the copy of patient tags kept by studies).
    var column = "main_tags"

    /// The tags indexed for searching: names, IDs, dates, accession numbers, modalities and descriptions.
    static let all: [FindIndex] = [
        .init(level: .patient, name: "PatientName", isDate: false),
        .init(level: .patient, name: "PatientID", isDate: false),
        .init(level: .patient, name: "PatientBirthDate", isDate: true),
        .init(level: .study, name: "PatientName", isDate: false, column: "patient_tags"),
        .init(level: .study, name: "PatientID", isDate: false, column: "patient_tags"),
        .init(level: .study, name: "PatientBirthDate", isDate: true, column: "patient_tags"),
        .init(level: .study, name: "StudyDate", isDate: true),
        .init(level: .study, name: "AccessionNumber", isDate: false),
        .init(level: .study, name: "StudyDescription", isDate: false),
        .init(level: .study, name: "StudyID", isDate: false),
        .init(level: .study, name: "ReferringPhysicianName", isDate: false),
        .init(level: .series, name: "SeriesDate", isDate: true),
        .init(level: .series, name: "Modality", isDate: false),
        .init(level: .series, name: "SeriesDescription", isDate: false),
    ]

    var statements: [String] {
        let table = LevelTable.of(level).table
        let value = "(\(column)->>'\(name)')"
        let index = "\(table)_find_\(column == "main_tags" ? "" : "patient_")\(name.lowercased())"
        if isDate {
            return ["CREATE INDEX \(index) ON \(table) (\(value))"]
        }
        return [
            "CREATE INDEX \(index) ON \(table) (upper\(value))",
            "CREATE INDEX \(index)_trgm ON \(table) USING gin (upper\(value) gin_trgm_ops)",
        ]
    }
}
