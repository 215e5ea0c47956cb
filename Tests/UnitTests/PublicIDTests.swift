import Foundation
import Model
import Testing

@Suite("Orthanc public IDs")
struct PublicIDTests {
    @Test("SHA-1 known answers in Orthanc's 5x8 format")
    func knownAnswers() {
        #expect(PublicID.hashing("").value == "da39a3ee-5e6b4b0d-3255bfef-95601890-afd80709")
        #expect(PublicID.hashing("The quick brown fox jumps over the lazy dog").value
            == "2fd4e1c6-7a2d28fc-ed849ee1-bb76e739-1b93eb12")
    }

    @Test("Golden patient and study IDs from Orthanc's documentation")
    func golden() throws {
        let ids = try InstanceIdentifiers(patientID: "ozp00SjY2xG",
                                          studyInstanceUID: "1.2.840.113619.2.176.2025.1499492.7391.1171285944.390",
                                          seriesInstanceUID: "1.2", sopInstanceUID: "1.2.3")
        #expect(ids.patientPublicID.value == "6816cb19-844d5aee-85245eba-28e841e6-2414fae2")
        #expect(ids.studyPublicID.value == "b9c08539-26f93bde-c81ab0d7-bffaf2cb-a4d0bdd0")
    }

    struct OrthancRecord: Decodable {
        let File: String
        let PatientID: String
        let StudyInstanceUID: String
        let SeriesInstanceUID: String
        let SOPInstanceUID: String
        let ID: String
        let ParentSeries: String
        let ParentStudy: String
        let ParentPatient: String
    }

    struct OrthancFixture: Decodable {
        let Orthanc: String
        let Instances: [OrthancRecord]
    }

    @Test("Equal to the IDs stock Orthanc gave the same files (scripts/orthanc-golden-ids.py)")
    func equalToStockOrthanc() throws {
        let url = try #require(Bundle.module.url(forResource: "orthanc-ids", withExtension: "json", subdirectory: "Fixtures"))
        let fixture = try JSONDecoder().decode(OrthancFixture.self, from: Data(contentsOf: url))
        #expect(fixture.Instances.count >= 8)
        for record in fixture.Instances {
            let ids = try InstanceIdentifiers(patientID: record.PatientID, studyInstanceUID: record.StudyInstanceUID,
                                              seriesInstanceUID: record.SeriesInstanceUID, sopInstanceUID: record.SOPInstanceUID)
            #expect(ids.instancePublicID.value == record.ID, "\(record.File)")
            #expect(ids.seriesPublicID.value == record.ParentSeries, "\(record.File)")
            #expect(ids.studyPublicID.value == record.ParentStudy, "\(record.File)")
            #expect(ids.patientPublicID.value == record.ParentPatient, "\(record.File)")
        }
    }

    @Test("Missing UIDs are an inexistent tag (as Orthanc says), an empty PatientID is allowed")
    func missingIdentifiers() throws {
        #expect(throws: TesseraError.self) {
            try InstanceIdentifiers(patientID: "P", studyInstanceUID: "", seriesInstanceUID: "1", sopInstanceUID: "2")
        }
        let anonymous = try InstanceIdentifiers(patientID: "", studyInstanceUID: "1", seriesInstanceUID: "2", sopInstanceUID: "3")
        #expect(anonymous.patientPublicID.value == "da39a3ee-5e6b4b0d-3255bfef-95601890-afd80709")
    }

    @Test("Validation of IDs taken from URLs")
    func validation() {
        #expect(PublicID(validating: "6816cb19-844d5aee-85245eba-28e841e6-2414fae2") != nil)
        #expect(PublicID(validating: "6816CB19-844d5aee-85245eba-28e841e6-2414fae2") == nil)
        #expect(PublicID(validating: "6816cb19-844d5aee-85245eba-28e841e6-2414fae") == nil)
        #expect(PublicID(validating: "6816cb19_844d5aee-85245eba-28e841e6-2414fae2") == nil)
        #expect(PublicID(validating: "../../etc/passwd") == nil)
    }
}
