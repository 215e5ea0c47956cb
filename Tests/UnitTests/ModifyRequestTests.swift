import Model
@testable import Modification
import Testing

@Suite("Modification requests")
struct ModifyRequestTests {
    @Test("Paths: keywords, hex tags, item indexes and wildcards; malformed paths are refused")
    func paths() throws {
        let path = try DicomPath.parse("ReferencedSeriesSequence[0].ReferencedImageSequence[*].0008,1155")
        #expect(path.prefix.count == 2 && path.prefix[1].item == nil && path.tag == DicomTag(0x0008, 0x1155))
        #expect(path.dcmtkPrefix == "(0008,1115)[0].(0008,1140)[*]")
        #expect(try DicomPath.parse("0010-0010").tag == .patientName)
        for bad in ["", "PatientName[0]", "ReferencedSeriesSequence[x].PatientName", "ReferencedSeriesSequence.PatientName", "Bogus"] {
            #expect(throws: TesseraError.self, "\(bad)") { try DicomPath.parse(bad) }
        }
    }

    @Test("Identifiers need Force; the level follows the identifier replaced; Replace wins over Remove")
    func levels() throws {
        #expect(throws: TesseraError.self) { try ModifyRequest.parse(["Replace": ["StudyInstanceUID": "1.2"]]) }
        #expect(throws: TesseraError.self) { try ModifyRequest.parse(["Remove": ["PatientID"]]) }
        #expect(throws: TesseraError.self) { try ModifyRequest.parse(["Force": "yes"]) }
        #expect(throws: TesseraError.self) { try ModifyRequest.parse(.array([])) }
        #expect(try ModifyRequest.parse(["Replace": ["PatientID": "X"], "Force": .bool(true)]).level == .patient)
        #expect(try ModifyRequest.parse(["Replace": ["SeriesInstanceUID": "1.2"], "Force": .bool(true)]).level == .series)
        #expect(try ModifyRequest.parse(["Replace": ["PatientName": "X"]]).level == .instance)
        let both = try ModifyRequest.parse(["Remove": ["PatientName"], "Replace": ["PatientName": "X"]])
        #expect(both.removals.isEmpty && both.replaces(.patientName))
        let kept = try ModifyRequest.parse(["Keep": ["SOPInstanceUID"], "Force": .bool(true)])
        #expect(kept.kept == [DicomTag.sopInstanceUID])
    }
}

@Suite("UID mapping of resource modifications")
struct UIDMappingTests {
    @Test("One new UID per original and level, the same for the same seed, valid DICOM UIDs")
    func deterministic() {
        let mapping = UIDMapping(seed: "job-1")
        let study = mapping.uid(for: .study, original: "1.2.3")
        #expect(study == UIDMapping(seed: "job-1").uid(for: .study, original: "1.2.3"))
        #expect(study != mapping.uid(for: .series, original: "1.2.3"))
        #expect(study != UIDMapping(seed: "job-2").uid(for: .study, original: "1.2.3"))
        #expect(study.hasPrefix("2.25.") && study.count <= 64)
        #expect(study.dropFirst(5).allSatisfy(\.isNumber) && !study.dropFirst(5).hasPrefix("0"))
    }

    @Test("Big-endian bytes in decimal")
    func decimal() {
        #expect(UIDMapping.decimal([0x00]) == "0")
        #expect(UIDMapping.decimal([0x01, 0x00]) == "256")
        #expect(UIDMapping.decimal([UInt8](repeating: 0xFF, count: 16)) == "340282366920938463463374607431768211455")
    }
}

@Suite("Anonymization requests")
struct AnonymizeRequestTests {
    @Test("The 2023b profile by default (Orthanc 1.12); Keep, Remove and Replace adjust it; DeidentificationMethod only for the profile as it is")
    func profile() throws {
        let plain = try ModifyRequest.parseAnonymization([:])
        #expect(plain.anonymization?.version == "2023b" && plain.generatesPatientName && plain.removePrivateTags)
        #expect(plain.mapped.contains(.studyInstanceUID) && plain.mapped.contains(.patientID))
        #expect(plain.replacements.contains { $0.path.tag == DicomTag(0x0012, 0x0063) })
        let kept = try ModifyRequest.parseAnonymization(["Keep": ["InstitutionName"], "Replace": ["PatientName": "X"]])
        #expect(!kept.removals.contains(DicomPath(tag: DicomTag(0x0008, 0x0080))) && !kept.generatesPatientName)
        #expect(!kept.replacements.contains { $0.path.tag == DicomTag(0x0012, 0x0063) })
        #expect(try ModifyRequest.parseAnonymization(["DicomVersion": "2008"]).anonymization?.version == "2008")
        #expect(throws: TesseraError.self) { try ModifyRequest.parseAnonymization(["DicomVersion": "bogus"]) }
        // 2023b (Orthanc 1.12's table): what 2021b kept and 2023b removes or empties, and the UIDs it maps.
        let v2023b = try ModifyRequest.parseAnonymization(["DicomVersion": "2023b"])
        let v2021b = try ModifyRequest.parseAnonymization(["DicomVersion": "2021b"])
        #expect(!v2021b.removals.contains(DicomPath(tag: DicomTag(0x0008, 0x0012))))
        #expect(v2023b.removals.contains(DicomPath(tag: DicomTag(0x0008, 0x0012))) && v2023b.emptied.contains(DicomTag(0x0008, 0x0106)))
        #expect(v2023b.removals.contains(DicomPath(tag: DicomTag(0x3010, 0x0077))) && !v2023b.emptied.contains(DicomTag(0x3010, 0x0077)))
        #expect(v2023b.mapped.contains(DicomTag(0x0008, 0x0017)) && v2023b.mapped.isSuperset(of: plain.mapped))
        #expect(plain.removals.contains(DicomPath(tag: DicomTag(0x0008, 0x0012))), "2023b by default, as Orthanc 1.12")
        #expect(throws: TesseraError.self) { try ModifyRequest.parseAnonymization(["Keep": ["StudyInstanceUID"]]) }
        #expect(throws: TesseraError.self) { try ModifyRequest.parseAnonymization(["Remove": ["PatientID"], "Force": .bool(true)]) }
    }
}
