import DICOM
import Model
import Testing

@Suite("Revisions, storage limits and the conformance statement")
struct RevisionAndLimitsTests {
    @Test("ETags parse as Orthanc parses If-Match: spaces, one pair of quotes, revision before the first dash")
    func entityTags() throws {
        let md5 = "6654c734ccab8f440ff0825eb443dc7f"
        #expect(try EntityTag.parse("\"3-\(md5)\"", header: "if-match") == EntityTag(revision: 3, md5: md5))
        #expect(try EntityTag.parse("  \"0-\(md5)\"  ", header: "if-match") == EntityTag(revision: 0, md5: md5))
        #expect(try EntityTag.parse("+00-x-y", header: "if-match") == EntityTag(revision: 0, md5: "x-y"))
        #expect(EntityTag(revision: 2, md5: md5).description == "\"2-\(md5)\"")
        for bad in ["0", "\"0\"", "*", "W/\"0-\(md5)\"", "", "-1-x", "abc-def", "\" 0-x \"", "\"0-x"] {
            #expect(throws: TesseraError.self, "\(bad)") { try EntityTag.parse(bad, header: "if-match") }
        }
        do {
            _ = try EntityTag.parse("3", header: "if-match")
        } catch {
            #expect(error.code == .parameterOutOfRange)
            #expect(error.details == "The \"if-match\" HTTP header should contain the ETag (revision followed by MD5 hash), but found: 3")
        }
    }

    @Test("A write checks the stored revision: none, matching, or absent only")
    func revisionChecks() throws {
        let stored = EntityTag(revision: 1, md5: "a")
        try RevisionCheck.none.verify(stored)
        try RevisionCheck.matching(stored).verify(stored)
        try RevisionCheck.matching(EntityTag(revision: 9, md5: "z")).verify(nil)  // a new entry: any If-Match
        try RevisionCheck.absent.verify(nil)
        #expect(throws: TesseraError.self) { try RevisionCheck.matching(EntityTag(revision: 0, md5: "a")).verify(stored) }
        #expect(throws: TesseraError.self) { try RevisionCheck.matching(EntityTag(revision: 1, md5: "A")).verify(stored) }
        #expect(throws: TesseraError.self) { try RevisionCheck.absent.verify(stored) }
        #expect(OrthancErrorCode.revision.httpStatus == 409 && OrthancErrorCode.revision.code == 43)
    }

    @Test("Storage limits from the configuration: MB, modes, refusals; StorageCompression and StoreMD5ForAttachments false refused")
    func limits() throws {
        let configuration = try ConfigurationLoader(environment: ["ORTHANC_JSON": #"""
            { "MaximumPatientCount": 3, "MaximumStorageSize": 2, "MaximumStorageMode": "Reject", "CheckRevisions": true }
            """#]).load()
        #expect(configuration.storageLimits == StorageLimits(maximumPatientCount: 3, maximumStorageSize: 2 << 20, mode: .reject))
        #expect(configuration.checkRevisions)
        #expect(try ConfigurationLoader(environment: [:]).load().storageLimits.isLimited == false)
        for bad in [#"{ "MaximumStorageMode": "recycle" }"#, #"{ "MaximumPatientCount": -1 }"#, #"{ "StorageCompression": true }"#,
                    #"{ "StoreMD5ForAttachments": false }"#] {
            #expect(throws: TesseraError.self, "\(bad)") { try ConfigurationLoader(environment: ["ORTHANC_JSON": bad]).load() }
        }
        #expect(try ConfigurationLoader(environment: ["ORTHANC_JSON": #"{ "StorageCompression": false }"#]).load().storageLimits.isLimited == false)
    }

    @Test("The conformance statement lists DCMTK's storage classes by name, and the transfer syntaxes")
    func conformance() {
        let text = ConformanceStatement.text()
        #expect(text.hasPrefix("======================================\nDICOM Conformance Statement of Tessera\n"))
        #expect(text.contains("Find SCP Conformance") && text.contains("Get SCU Conformance"))
        #expect(text.range(of: #"\n  CTImageStorage +\| 1\.2\.840\.10008\.5\.1\.4\.1\.1\.2\n"#, options: .regularExpression) != nil)
        #expect(text.range(of: #"\n  RETIRED_[A-Za-z]+ +\| "#, options: .regularExpression) != nil)
        #expect(text.contains("| 1.2.840.10008.1.2.5\n"), "RLE")
        #expect(!text.contains("Worklist |"), "worklists are not served")
    }
}
