import DICOM
import Foundation
import Model

/// The identifiers of C-FIND and C-MOVE requests, as the REST API builds them from Orthanc's bodies and answers.
public enum QueryIdentifiers {
    /// What a C-FIND sends: the attributes asked, QueryRetrieveLevel, and (when normalizing, Orthanc's default) the
    /// keys a retrieve of an answer needs, with empty values so that the peer returns them.
    public static func findQuery(_ asked: [DicomTag: String], level: QueryLevel, normalize: Bool) -> [DicomTag: String] {
        var sent = asked
        if normalize {
            for tag in level.retrieveKeys where sent[tag] == nil { sent[tag] = "" }
        }
        sent[QueryLevel.tag] = level.dicomValue
        return sent
    }

    /// The attributes Orthanc's deprecated `/modalities/{id}/find-*` routes ask for at each level (returned empty when
    /// the query does not constrain them), and the ones a query at that level must give (its parents' unique keys).
    public static func findTemplate(_ level: QueryLevel) -> (returned: [DicomTag], required: [DicomTag]) {
        let names: [String]
        switch level {
        case .patient:
            names = ["PatientName", "PatientID", "PatientBirthDate", "PatientSex", "OtherPatientIDs"]
        case .study:
            names = ["PatientID", "AccessionNumber", "ReferringPhysicianName", "StudyDate", "StudyDescription", "StudyID",
                     "StudyInstanceUID", "StudyTime"]
        case .series:
            names = ["PatientID", "StudyInstanceUID", "AccessionNumber", "BodyPartExamined", "Modality", "OperatorsName",
                     "PerformedProcedureStepDescription", "ProtocolName", "SeriesDate", "SeriesDescription",
                     "SeriesInstanceUID", "SeriesNumber", "SeriesTime"]
        case .instance:
            names = ["PatientID", "StudyInstanceUID", "SeriesInstanceUID", "AccessionNumber", "InstanceCreationDate",
                     "InstanceCreationTime", "InstanceNumber", "SOPInstanceUID"]
        }
        let required: [DicomTag]
        switch level {
        case .patient: required = []
        case .study: required = [.patientID]
        case .series: required = [.patientID, .studyInstanceUID]
        case .instance: required = [.patientID, .studyInstanceUID, .seriesInstanceUID]
        }
        return (names.compactMap { DicomDictionary.lookup($0)?.tag }, required)
    }

    /// A query's attributes: keys are dictionary names or `gggg,eeee`, values strings.
    public static func attributes(_ query: JSONValue) throws -> [DicomTag: String] {
        guard case .object(let members) = query else { throw TesseraError(.badFileFormat, details: "Query must be a JSON object") }
        var attributes: [DicomTag: String] = [:]
        for (key, value) in members {
            guard let entry = DicomDictionary.lookup(key) else { throw TesseraError(.unknownDicomTag, details: "Unknown DICOM tag: \(key)") }
            guard let text = value.stringValue else {
                throw TesseraError(.badFileFormat, details: "The value of \(key) must be a string (sequences are not supported in queries yet)")
            }
            attributes[entry.tag] = text
        }
        return attributes
    }

    /// Attributes keyed by `gggg,eeee`, as job requests and saved queries keep them.
    public static func keyed(_ attributes: [DicomTag: String]) -> [String: String] {
        Dictionary(uniqueKeysWithValues: attributes.map { ($0.key.description, $0.value) })
    }

    /// The keys that identify an answer at its level (for its retrieve, or a query of its children).
    public static func retrieveKeys(_ answer: [UInt8], level: QueryLevel) throws -> [DicomTag: String] {
        let tags = try render(answer, DicomJSONRenderer(format: .short))
        var keys: [DicomTag: String] = [:]
        for tag in level.retrieveKeys {
            if let value = tags[tag.description]?.stringValue { keys[tag] = value }
        }
        guard keys[level.uniqueKey] != nil else {
            throw TesseraError(.badRequest, details: "The answer has no \(DicomDictionary.name(of: level.uniqueKey) ?? "unique key") to retrieve it by")
        }
        return keys
    }

    /// A C-FIND answer (a DICOM file) as `renderer` prints it.
    public static func render(_ answer: [UInt8], _ renderer: DicomJSONRenderer) throws -> JSONValue {
        renderer.render(datasetOf: try DicomFile(bytes: answer))
    }

    /// A query's attributes in the shape of `/tags` (full, short or simplified).
    public static func render(_ attributes: [(DicomTag, String)], format: DicomJSONFormat) -> JSONValue {
        var members: [String: JSONValue] = [:]
        for (tag, value) in attributes {
            let name = DicomDictionary.name(of: tag) ?? "Unknown Tag & Data"
            switch format {
            case .full: members[tag.description] = .object(["Name": .string(name), "Type": .string("String"), "Value": .string(value)])
            case .short: members[tag.description] = .string(value)
            case .human: members[name] = .string(value)
            }
        }
        return .object(members)
    }
}
