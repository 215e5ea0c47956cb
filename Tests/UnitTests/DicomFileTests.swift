import DICOM
import Model
import Testing

@Suite("DICOM parsing")
struct DicomFileTests {
    init() {
        DicomToolkit.initialize()
    }

    @Test("Bytes that are not DICOM, and empty input, are a bad file format")
    func notDicom() {
        for bytes in [Array("hello, this is not a DICOM file".utf8), []] {
            do {
                let file = try DicomFile(bytes: bytes)
                _ = try InstanceSummary(file: file)
                Issue.record("accepted \(bytes.count) bytes of non-DICOM")
            } catch {
                #expect(error.code == .badFileFormat)
            }
        }
    }

    @Test("A Part-10 file without the UIDs of the resource tree is refused")
    func missingUIDs() throws {
        // Preamble, DICM, then a meta header with only the transfer syntax, and a dataset with PatientID only.
        var bytes = [UInt8](repeating: 0, count: 128) + Array("DICM".utf8)
        let syntax = Array("1.2.840.10008.1.2.1\0".utf8)
        bytes += [0x02, 0x00, 0x10, 0x00] + Array("UI".utf8) + [UInt8(syntax.count), 0] + syntax
        let patient = Array("PID1".utf8)
        bytes += [0x10, 0x00, 0x20, 0x00] + Array("LO".utf8) + [UInt8(patient.count), 0] + patient
        let file = try DicomFile(bytes: bytes)
        #expect(file.dataset.string(.patientID) == "PID1")
        #expect(file.metaHeader.string(.transferSyntaxUID) == "1.2.840.10008.1.2.1")
        #expect(file.dataset.valueRepresentation(.patientID) == "LO")
        #expect(!file.dataset.contains(.studyInstanceUID))
        let error = #expect(throws: TesseraError.self) { try InstanceSummary(file: file) }
        #expect(error?.code == .inexistentTag, "Orthanc's answer to a file without its UIDs")
    }
}
