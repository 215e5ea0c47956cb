import Model
import Testing

@Suite("Who may do what on the DICOM server, as Orthanc's application entity filter decides")
struct DicomAccessRulesTests {
    let pacs = ModalityConfiguration(aet: "PACS", host: "10.0.0.5", port: 104)
    var viewer: ModalityConfiguration {
        var modality = ModalityConfiguration(aet: "VIEWER", host: "10.0.0.6", port: 104)
        modality.allowMove = false
        return modality
    }

    @Test("Defaults: echo and store from anyone; find, get and move only from known modalities, by their flags")
    func defaults() {
        let rules = DicomAccessRules()
        let known = [pacs, viewer]
        #expect(rules.allowsConnection(callingAET: "STRANGER", ip: "1.2.3.4", modalities: known))
        #expect(rules.allows(.echo, callingAET: "STRANGER", ip: "1.2.3.4", modalities: known))
        #expect(rules.allows(.store, callingAET: "STRANGER", ip: "1.2.3.4", modalities: known))
        #expect(!rules.allows(.find, callingAET: "STRANGER", ip: "1.2.3.4", modalities: known))
        #expect(rules.allows(.find, callingAET: "PACS", ip: "1.2.3.4", modalities: known), "no host check by default")
        #expect(rules.allows(.move, callingAET: "pacs", ip: "1.2.3.4", modalities: known), "AE titles compare regardless of case")
        #expect(!rules.allows(.move, callingAET: "VIEWER", ip: "10.0.0.6", modalities: known), "AllowMove false")
        #expect(rules.allows(.get, callingAET: "VIEWER", ip: "10.0.0.6", modalities: known))
    }

    @Test("Nothing always allowed: only known modalities associate; DicomCheckModalityHost and StrictAetComparison")
    func strict() {
        var rules = DicomAccessRules()
        rules.alwaysAllowed = []
        rules.checkModalityHost = true
        #expect(!rules.allowsConnection(callingAET: "STRANGER", ip: "10.0.0.5", modalities: [pacs]))
        #expect(!rules.allowsConnection(callingAET: "PACS", ip: "10.0.0.9", modalities: [pacs]), "wrong host")
        #expect(rules.allowsConnection(callingAET: "PACS", ip: "10.0.0.5", modalities: [pacs]))
        #expect(!rules.allows(.store, callingAET: "PACS", ip: "10.0.0.9", modalities: [pacs]))
        rules.strictAetComparison = true
        #expect(!rules.allows(.store, callingAET: "pacs", ip: "10.0.0.5", modalities: [pacs]))
    }

    @Test("Several modalities with one AE title: one allowing from a matching host, else all must allow")
    func shared() {
        var rules = DicomAccessRules()
        rules.alwaysAllowed = []
        var other = ModalityConfiguration(aet: "PACS", host: "10.0.0.7", port: 104)
        other.allowMove = false
        #expect(!rules.allows(.move, callingAET: "PACS", ip: "10.0.0.5", modalities: [pacs, other]), "not all allow, no host check")
        rules.checkModalityHost = true
        #expect(rules.allows(.move, callingAET: "PACS", ip: "10.0.0.5", modalities: [pacs, other]), "the one at this host allows")
        #expect(!rules.allows(.move, callingAET: "PACS", ip: "10.0.0.7", modalities: [pacs, other]))
    }

    @Test("A move destination is the modality with that AE title, the first by symbolic name")
    func destination() {
        let rules = DicomAccessRules()
        let found = rules.modality(aet: "pacs", in: ["b": pacs, "a": ModalityConfiguration(aet: "PACS", host: "x", port: 1)])
        #expect(found?.name == "a")
        #expect(rules.modality(aet: "NOPE", in: ["b": pacs]) == nil)
    }
}

@Suite("Datashares of the edge receiver")
struct DatashareSelectionTests {
    let shares: [String: DatashareConfiguration] = [
        "DS1": DatashareConfiguration(), "DS-LONG-ID-0000000000": DatashareConfiguration(calledAet: "EDGE2"),
        "DS3": DatashareConfiguration(callingAet: "PACS3"),
    ]

    @Test("The called AE title names a datashare, or a substitute does; else the calling AE title; else none")
    func selection() {
        let selector = DatashareSelector(shares: shares)
        #expect(selector.select(calledAET: "DS1", callingAET: "ANY") == "DS1")
        #expect(selector.select(calledAET: "DS1 ", callingAET: "ANY") == "DS1", "DICOM pads AE titles with spaces")
        #expect(selector.select(calledAET: "EDGE2", callingAET: "ANY") == "DS-LONG-ID-0000000000")
        #expect(selector.select(calledAET: "DS-LONG-ID-0000000000", callingAET: "ANY") == nil, "a substituted ID is not a called AE title")
        #expect(selector.select(calledAET: "WHATEVER", callingAET: "PACS3") == "DS3")
        #expect(selector.select(calledAET: "DS3", callingAET: "OTHER") == nil, "DS3 is selected by its calling AE title only")
        #expect(selector.select(calledAET: "NOPE", callingAET: "NOPE") == nil)
    }

    @Test("Configuration: {}, CalledAet or CallingAet (not both), DiskBudget in MB; IDs are labels")
    func configuration() throws {
        #expect(try DatashareConfiguration(json: ["CalledAet": "EDGE2", "DiskBudget": .number(5)]) == DatashareConfiguration(calledAet: "EDGE2", diskBudgetMB: 5))
        #expect(throws: TesseraError.self) { try DatashareConfiguration(json: ["CalledAet": "A", "CallingAet": "B"]) }
        #expect(throws: TesseraError.self) { try DatashareConfiguration(json: ["CalledAet": "AN-AE-TITLE-TOO-LONG"]) }
        #expect(throws: TesseraError.self) { try DatashareConfiguration(json: ["DiskBudget": .number(0)]) }
        #expect(throws: TesseraError.self) { try DatashareConfiguration(json: ["Unknown": .number(1)]) }
        #expect(throws: TesseraError.self) { try DatashareConfiguration.validate(name: "bad id") }
        let configuration = try TesseraConfiguration(document: [
            "DatashareMode": .bool(true), "Datashares": ["DS1": [:], "DS2": ["CallingAet": "X"]], "DatashareDiskBudget": .number(100),
        ], environment: [:])
        #expect(configuration.datashares.enabled && configuration.datashares.shares.count == 2)
        #expect(configuration.datashares.defaultDiskBudgetMB == 100)
        #expect(throws: TesseraError.self) {
            try TesseraConfiguration(document: ["Datashares": ["bad id": [:]]], environment: [:])
        }
    }
}

@Suite("Query/retrieve SCP configuration")
struct QueryRetrieveConfigurationTests {
    @Test("DicomAlwaysAllow..., SynchronousCMove, LimitFind..., DefaultEncoding are read; unknown encodings refused")
    func keys() throws {
        let configuration = try TesseraConfiguration(document: [
            "DicomAlwaysAllowFind": .bool(true), "DicomAlwaysAllowStore": .bool(false), "DicomCheckModalityHost": .bool(true),
            "SynchronousCMove": .bool(false), "LimitFindResults": .number(10), "LimitFindInstances": .number(20), "DefaultEncoding": "Utf8",
        ], environment: [:])
        #expect(configuration.dicomAccess.alwaysAllowed == [.echo, .find])
        #expect(configuration.dicomAccess.checkModalityHost)
        #expect(!configuration.synchronousCMove && configuration.limitFindResults == 10 && configuration.limitFindInstances == 20)
        #expect(DicomEncoding.specificCharacterSet(of: configuration.defaultEncoding) == "ISO_IR 192")
        #expect(DicomEncoding.specificCharacterSet(of: "Latin1") == "ISO_IR 100")
        #expect(throws: TesseraError.self) { try TesseraConfiguration(document: ["DefaultEncoding": "Klingon"], environment: [:]) }
        #expect(throws: TesseraError.self) { try TesseraConfiguration(document: ["LimitFindResults": .number(-1)], environment: [:]) }
    }

    @Test("Transfer syntax patterns expand to the known UIDs, in order of preference")
    func syntaxes() {
        #expect(TransferSyntaxPolicy.expand(["1.2.840.10008.1.2"]) == ["1.2.840.10008.1.2"])
        #expect(TransferSyntaxPolicy.expand(["1.2.840.10008.1.2.4.5?"]).count == 10)
        #expect(TransferSyntaxPolicy.expand(["1.2.840.10008.1.*"]).first == "1.2.840.10008.1.2.1")
        #expect(TransferSyntaxPolicy.expand(["9.9.*"]).isEmpty)
    }
}
