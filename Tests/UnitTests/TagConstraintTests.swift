import Model
import Testing

@Suite("Find constraints as Orthanc's DatabaseLookup classifies and matches them")
struct TagConstraintTests {
    let name = DicomTag(0x0010, 0x0010)
    let date = DicomTag(0x0008, 0x0020)

    @Test("Empty is universal; ranges only for dates and times; lists on backslash; wildcards only for text VRs")
    func classification() {
        #expect((try? TagConstraint.parse(tag: name, vr: "PN", value: "", caseSensitive: false)) == nil)
        #expect((try? TagConstraint.parse(tag: date, vr: "DA", value: "20200101-", caseSensitive: false))?.kind == .range(lower: "20200101", upper: nil))
        #expect((try? TagConstraint.parse(tag: date, vr: "DA", value: "-20201231", caseSensitive: false))?.kind == .range(lower: nil, upper: "20201231"))
        #expect((try? TagConstraint.parse(tag: date, vr: "DA", value: "20200101-20201231", caseSensitive: false))?.kind
            == .range(lower: "20200101", upper: "20201231"))
        // A dash in a name is an exact match, not a range.
        #expect((try? TagConstraint.parse(tag: name, vr: "PN", value: "A-B", caseSensitive: false))?.kind == .equal("A-B"))
        #expect((try? TagConstraint.parse(tag: name, vr: "CS", value: "CT\\MR", caseSensitive: false))?.kind == .list(["CT", "MR"]))
        #expect((try? TagConstraint.parse(tag: name, vr: "PN", value: "DOE*", caseSensitive: false))?.kind == .wildcard("DOE*"))
        // No wildcards on UIDs or dates: refused, as Orthanc refuses them.
        #expect(throws: TesseraError.self) { try TagConstraint.parse(tag: name, vr: "UI", value: "1.2*", caseSensitive: false) }
    }

    @Test("CaseSensitive applies to every VR (REST lookups); case folding keeps accents")
    func caseSensitivity() throws {
        let person = try #require((try? TagConstraint.parse(tag: name, vr: "PN", value: "doe^john", caseSensitive: false)))
        #expect(person.matches("DOE^JOHN"))
        let strict = try #require((try? TagConstraint.parse(tag: name, vr: "PN", value: "doe^john", caseSensitive: true)))
        #expect(!strict.matches("DOE^JOHN"))
        let description = try #require((try? TagConstraint.parse(tag: name, vr: "LO", value: "chest", caseSensitive: true)))
        #expect(!description.matches("CHEST"))
        #expect(description.matches("chest"))
        let accented = try #require((try? TagConstraint.parse(tag: name, vr: "PN", value: "BUC^JÉRÔME", caseSensitive: false)))
        #expect(accented.matches("Buc^Jérôme"))
        #expect(!accented.matches("Buc^Jerome"))
    }

    @Test("Wildcards, ranges and lists match as DICOM says; absent values never match")
    func matching() throws {
        let pattern = try #require((try? TagConstraint.parse(tag: name, vr: "LO", value: "C?EST*", caseSensitive: false)))
        #expect(pattern.matches("CHEST"))
        #expect(pattern.matches("CHEST PA"))
        #expect(!pattern.matches("CHST"))
        #expect(!pattern.matches(nil))
        let star = try #require((try? TagConstraint.parse(tag: name, vr: "LO", value: "*a*b*c*", caseSensitive: false)))
        #expect(star.matches("xaxbxcx"))
        #expect(!star.matches("xaxcxbx"))
        let range = try #require((try? TagConstraint.parse(tag: date, vr: "DA", value: "20200101-20201231", caseSensitive: false)))
        #expect(range.matches("20200615"))
        #expect(range.matches("20201231"))
        #expect(!range.matches("20210101"))
        let list = try #require((try? TagConstraint.parse(tag: name, vr: "CS", value: "CT\\MR", caseSensitive: false)))
        #expect(list.matches("MR"))
        #expect(!list.matches("US"))
    }

    @Test("LIKE patterns escape SQL's own wildcards")
    func likePattern() {
        #expect(TagConstraint.likePattern("A*B?C") == "A%B_C")
        #expect(TagConstraint.likePattern("100%_x\\") == "100\\%\\_x\\\\")
    }

    @Test("Label names as Orthanc validates them")
    func labels() {
        #expect(LabelName.isValid("Research_2024-a"))
        #expect(!LabelName.isValid(""))
        #expect(!LabelName.isValid("with space"))
        #expect(!LabelName.isValid("é"))
        #expect(!LabelName.isValid(String(repeating: "a", count: 65)))
        #expect(LabelName.isValid(String(repeating: "a", count: 64)))
    }
}
