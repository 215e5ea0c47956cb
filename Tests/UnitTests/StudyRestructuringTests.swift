import DICOM
import Foundation
import Model
@testable import Modification
import Testing

@Suite("Split, merge and DICOM creation requests")
struct StudyRestructuringTests {
    @Test("Split: Remove and Replace limited to the patient and study modules, strings only; the target StudyInstanceUID replaced")
    func split() throws {
        let plan = try StudyRestructuring.split(["Replace": ["StudyDescription": "New", "PatientID": "P2"], "Remove": ["AccessionNumber"]],
                                                targetStudyUID: "1.2.3")
        #expect(plan.removals == [DicomTag(0x0008, 0x0050)] && plan.replacements[.patientID] == "P2")
        let modification = plan.modification
        #expect(modification.force && modification.literalValues && modification.level == .patient)
        #expect(modification.replacements.contains { $0.path.tag == .studyInstanceUID && $0.value == .string("1.2.3") })
        let outside = #expect(throws: TesseraError.self) { try StudyRestructuring.split(["Replace": ["Modality": "CT"]], targetStudyUID: "1") }
        #expect(outside?.code == .parameterOutOfRange && outside?.details?.contains("Modality (0008,0060)") == true)
        #expect(throws: TesseraError.self) { try StudyRestructuring.split(["Remove": ["StudyInstanceUID"]], targetStudyUID: "1") }
        let number = #expect(throws: TesseraError.self) { try StudyRestructuring.split(["Replace": ["PatientName": .number(3)]], targetStudyUID: "1") }
        #expect(number?.code == .badFileFormat)
        // The job's JSON form gives the same plan back.
        #expect(try StudyRestructuring(json: plan.json) == plan)
    }

    @Test("Merge: the target's patient and study values, its absent tags and sequences removed")
    func merge() throws {
        let file = try DicomFile.empty()
        for (tag, value) in [(DicomTag.patientID, "PID"), (.studyInstanceUID, "1.2.9"), (DicomTag(0x0008, 0x1030), "Target study")] {
            try file.replace(tag, with: Array(value.utf8), defaultCharset: "ISO_IR 100", privateCreator: "")
        }
        try file.replaceSequence(DicomTag(0x0008, 0x1110), items: 1)
        let plan = try StudyRestructuring.merge(into: file)
        #expect(plan.targetStudyUID == "1.2.9" && plan.replacements[.patientID] == "PID")
        #expect(plan.replacements[DicomTag(0x0008, 0x1030)] == "Target study")
        #expect(plan.removals.contains(DicomTag(0x0008, 0x1110)) && plan.removals.contains(.patientName))
    }

    @Test("create-dicom bodies: Tags, Content forms and Orthanc's errors")
    func creationBodies() throws {
        let series = try DicomCreation.parse(["Tags": ["PatientName": "A"], "Content": ["data:x", ["Content": "data:y", "Tags": ["ImageComments": "c"]]]])
        #expect(series.isSeries && series.items.count == 2 && series.items[1].tags != nil)
        let single = try DicomCreation.parse(["Tags": ["SpecificCharacterSet": "ISO 2022 IR 100"], "Content": []])
        #expect(!single.isSeries && single.characterSet == "ISO_IR 100")
        let legacy = try DicomCreation.parse(["PatientName": "Old", "PixelData": "data:image/png;base64,AA=="])
        #expect(legacy.isLegacy && legacy.items[0].content.hasPrefix("data:") && legacy.tags.count == 1)
        let cases: [(JSONValue, OrthancErrorCode)] = [
            (["Tags": "x"], .badRequest), (["Tags": [:], "Content": .number(3)], .createDicomUseDataUriScheme),
            (["Tags": [:], "Content": [["Tags": [:]]]], .createDicomNoPayload), (["Tags": [:], "Force": "yes"], .badRequest),
            (["Tags": ["SpecificCharacterSet": "nope"]], .parameterOutOfRange), (["PatientName": .number(3)], .createDicomNotString),
        ]
        for (body, code) in cases {
            let error = #expect(throws: TesseraError.self) { try DicomCreation.parse(body) }
            #expect(error?.code == code, "\(body)")
        }
    }

    @Test("create-dicom files: identifiers made, tags refused without Force, PNG pixels embedded, the current date")
    func creationFiles() throws {
        // A 2x1 8-bit greyscale PNG (pixels 0 and 255), made by Pillow.
        let png = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAIAAAABCAAAAADRSSBWAAAAC0lEQVR4nGNg+A8AAQIBAEK+vGgAAAAASUVORK5CYII="
        let creation = try DicomCreation.parse(["Tags": ["PatientName": "Made^Here"], "Content": .string(png)])
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let files = try creation.files(parent: nil, defaultCharset: "ISO_IR 100", now: now)
        let file = try DicomFile(bytes: try #require(files.first))
        #expect(file.dataset.string(.patientName) == "Made^Here" && file.dataset.string(.patientID)?.count == 36)
        #expect(file.dataset.string(DicomTag(0x0028, 0x0010)) == "1" && file.dataset.string(DicomTag(0x0028, 0x0011)) == "2")
        #expect(file.dataset.string(DicomTag(0x0008, 0x0020)) == "20270115")
        #expect(file.dataset.string(DicomTag(0x0028, 0x0004)) == "MONOCHROME2")
        let refused = #expect(throws: TesseraError.self) {
            try DicomCreation.parse(["Tags": ["StudyInstanceUID": "1.2.3"]]).files(parent: nil, defaultCharset: "ISO_IR 100")
        }
        #expect(refused?.code == .createDicomOverrideTag)
        #expect(throws: TesseraError.self) {
            try DicomCreation.parse(["Tags": [:], "Content": "data:image/png;base64,AAAA"]).files(parent: nil, defaultCharset: "ISO_IR 100")
        }
    }

    @Test("Hostile images: a PNG announcing 10^10 pixels is refused before decoding (413), a truncated one is a bad file (400)")
    func hostileImages() throws {
        let bomb = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgABhqAAAYagCAAAAACNOVQUAAAAC0lEQVR4nGNggAEAAAoAAX+AdF4AAAAASUVORK5CYII="
        let truncated = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAQAAAAECAAAAACMmsGiAAAAC0lEQVR4nGNgYAAAAAMAAbitOmM="
        for (content, status) in [(bomb, 413), (truncated, 400), ("data:image/jpeg;base64,/9j/AAAA", 400)] {
            let error = #expect(throws: TesseraError.self) {
                try DicomCreation.parse(["Tags": [:], "Content": .string(content)]).files(parent: nil, defaultCharset: "ISO_IR 100")
            }
            #expect(error?.code.httpStatus == status, "\(content.prefix(40)): \(String(describing: error))")
        }
    }

    @Test("Data URIs and Orthanc's level names")
    func parsing() {
        #expect(DicomFile.decodeDataURI("data:application/pdf;base64,JVBERg==")?.mime == "application/pdf")
        #expect(DicomFile.decodeDataURI("data:application/pdf;base64,%%%") == nil && DicomFile.decodeDataURI("hello") == nil)
        #expect(ResourceLevel(orthancName: "studies") == .study && ResourceLevel(orthancName: "IMAGE") == .instance)
        #expect(ResourceLevel(orthancName: "nope") == nil)
    }
}
