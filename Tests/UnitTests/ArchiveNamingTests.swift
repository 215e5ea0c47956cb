import Archive
import Testing

@Suite("Archive folder and file names as Orthanc 1.10 writes them")
struct ArchiveNamingTests {
    @Test("Folders: ASCII only, ^ as space, letters digits . _ kept, spaces collapsed (examples recorded from Orthanc)")
    func folders() {
        #expect(ArchiveNaming.folder("2008-4 ^", unknown: "Unknown Patient") == "20084")
        #expect(ArchiveNaming.folder(" e+1", unknown: "Unknown Study") == "e1")
        #expect(ArchiveNaming.folder(" marked lesion<MPR Collection>", unknown: "Unknown Study") == "marked lesionMPR Collection")
        #expect(ArchiveNaming.folder("ID Wang^XiaoDong=王^小東=", unknown: "Unknown Patient") == "ID Wang XiaoDong")
        #expect(ArchiveNaming.folder("NM Derived #2: a/b*c?d [x]_y.z   (e-f) & g'h, i+j=k~", unknown: "Unknown Series")
            == "NM Derived 2 abcd x_y.z ef gh ijk")
        #expect(ArchiveNaming.folder("8NM1 CompressedSamples^NM1", unknown: "Unknown Patient") == "8NM1 CompressedSamples NM1")
        #expect(ArchiveNaming.folder("1 Buc^Jérôme", unknown: "Unknown Patient") == "1 Buc Jrme")
        #expect(ArchiveNaming.folder(" ", unknown: "Unknown Study") == "Unknown Study")
        // "Unknown" is decided before the second clean-up: "^^^^" leaves an empty folder name, as in Orthanc.
        #expect(ArchiveNaming.folder(" ^^^^", unknown: "Unknown Patient") == "")
    }

    @Test("Files: two letters of Modality and a counter, eight characters")
    func files() {
        #expect(ArchiveNaming.file(modality: "NM", counter: 0) == "NM000000.dcm")
        #expect(ArchiveNaming.file(modality: "RTDOSE", counter: 12) == "RT000012.dcm")
        #expect(ArchiveNaming.file(modality: "x", counter: 0) == "X0000000.dcm")
        #expect(ArchiveNaming.file(modality: "", counter: 3) == "00000003.dcm")
    }

    @Test("Siblings with one name get -2, -3")
    func siblings() {
        var names = ArchiveNaming.Siblings()
        #expect(names.unique("NM") == "NM")
        #expect(names.unique("NM") == "NM-2")
        #expect(names.unique("NM") == "NM-3")
        #expect(names.unique("CT") == "CT")
    }
}
