import Foundation
import Model
import Testing

@testable import Events

@Suite("Instance events written without JSONEncoder")
struct EventJSONWriterTests {
    private func instance(_ text: String, optionals: Bool, date: Date) throws -> StoredInstance {
        let identifiers = try InstanceIdentifiers(patientID: text, studyInstanceUID: "1.2.3", seriesInstanceUID: "1.2.3.4",
                                                  sopInstanceUID: "1.2.3.4.\(text.utf8.count)")
        let summary = InstanceSummary(
            identifiers: identifiers, patientTags: ["PatientName": text, "PatientID": text, "Other": ""],
            studyTags: optionals ? ["StudyDescription": "a\\b \"c\" \u{7}"] : [:], seriesTags: ["Modality": "CT"],
            instanceTags: ["SOPInstanceUID": "1.2", "ImageComments": text],
            sopClassUID: optionals ? "1.2.840.10008.5.1.4.1.1.2" : nil, transferSyntaxUID: optionals ? "1.2.840.10008.1.2.1" : nil,
            indexInSeries: optionals ? -7 : nil)
        return StoredInstance(
            summary: summary, fileUUID: BlobID.generate(), fileSize: 525_228, fileMD5: optionals ? "0123456789abcdef0123456789abcdef" : nil,
            origin: "DicomProtocol", remoteAET: optionals ? text : nil, calledAET: optionals ? "TESSERA" : nil,
            remoteIP: optionals ? "127.0.0.1" : nil, receptionDate: date, httpUsername: optionals ? "alice" : nil,
            overwrite: optionals, datashare: optionals ? "edge/1" : nil)
    }

    @Test("Decodes to the same event as JSONEncoder's form, for hostile strings, absent optionals and any date",
          arguments: ["", "Doe^John", "Ünïcödé 患者 🩻", "quote \" backslash \\ slash /", "\u{0}\u{1}\n\r\t\u{1F}\u{7F}", "{\"a\":[1]}"])
    func sameAsFoundation(text: String) throws {
        for optionals in [false, true] {
            for date in [Date(), Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: 1_764_540_000.123_456),
                         Date(timeIntervalSince1970: -86_400.5)] {
                let event = InstanceStoredEvent(try instance(text, optionals: optionals, date: date))
                let written = try #require(EventJSONWriter.encode(event))
                // (A date keeps only what milliseconds in a double hold, in either form.)
                let decoded = try InstanceStoredEvent.decode(written)
                #expect(decoded == (try InstanceStoredEvent.decode(try event.encodedByFoundation())))
                #expect(decoded.instance.summary == event.instance.summary)
                #expect(try JSONSerialization.jsonObject(with: Data(written)) as? NSDictionary
                        == JSONSerialization.jsonObject(with: Data(try event.encodedByFoundation())) as? NSDictionary)
            }
        }
    }

    @Test("An instance made by a modification goes through JSONEncoder")
    func modifiedFrom() throws {
        var stored = try instance("x", optionals: true, date: Date(timeIntervalSince1970: 1_764_540_000.125))
        stored.modifiedFrom = ModificationOrigin(instance: "abc", series: "def", anonymized: true)
        let event = InstanceStoredEvent(stored)
        #expect(EventJSONWriter.encode(event) == nil)
        #expect(try InstanceStoredEvent.decode(try event.encoded()) == event)
    }
}
