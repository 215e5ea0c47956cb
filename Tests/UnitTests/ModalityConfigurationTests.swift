import DICOM
import Foundation
import Jobs
import Model
import Testing

@Suite("Modalities and jobs configuration")
struct ModalityConfigurationTests {
    private func parse(_ text: String) throws -> ModalityConfiguration {
        try ModalityConfiguration(json: JSONValue.parse(text: text))
    }

    @Test("The short form [AET, host, port(, manufacturer)], the port as a number or a string")
    func shortForm() throws {
        let modality = try parse(#"["STORESCP", "127.0.0.1", 2000]"#)
        #expect(modality.aet == "STORESCP" && modality.host == "127.0.0.1" && modality.port == 2000)
        #expect(modality.manufacturer == "Generic" && modality.allowStore && modality.timeout == 0 && modality.localAet.isEmpty)
        #expect(try parse(#"["A", "h", "104", "GE"]"#).manufacturer == "GE")
        #expect(try parse(#"["A", "h", 104, "ClearCanvas"]"#).manufacturer == "Generic", "obsolete names are Generic")
    }

    @Test("The long form with the Allow switches, LocalAet and Timeout; AllowStorageCommitment sets N-ACTION and N-EVENT-REPORT")
    func longForm() throws {
        let modality = try parse("""
            {"AET": "PACS", "Host": "pacs.local", "Port": 11112, "AllowEcho": false, "AllowStorageCommitment": false,
             "LocalAet": "ME", "Timeout": 7, "Manufacturer": "GenericNoWildcardInDates"}
            """)
        #expect(!modality.allowEcho && modality.allowFind && !modality.allowNAction && !modality.allowEventReport)
        #expect(modality.localAet == "ME" && modality.timeout == 7 && modality.manufacturer == "GenericNoWildcardInDates")
        let json = modality.json
        #expect(json["AET"]?.stringValue == "PACS" && json["Port"]?.intValue == 11112 && json["AllowEcho"]?.boolValue == false)
        #expect(try ModalityConfiguration(json: json) == modality, "what is printed reads back the same")
    }

    @Test("Bad modalities: Orthanc's 400 (Bad file format), an unknown manufacturer, DICOM TLS not supported")
    func refused() throws {
        for text in [#"{"AET": 3, "Host": "h", "Port": 1}"#, #"{"Host": "h", "Port": 1}"#, #"["A", "h"]"#,
                     #"["A", "h", 70000]"#, #"["", "h", 1]"#, #"["ABCDEFGHIJKLMNOPQ", "h", 1]"#, #""text""#,
                     #"{"AET": "A", "Host": "h", "Port": 1, "AllowEcho": "yes"}"#,
                     #"{"AET": "A", "Host": "h", "Port": 1, "Timeout": -1}"#] {
            #expect(throws: TesseraError.self, "\(text)") { try parse(text) }
        }
        #expect { try parse(#"["A", "h", 1, "Acme"]"#) } throws: { ($0 as? TesseraError)?.code == .parameterOutOfRange }
        #expect(try parse(#"{"AET": "A", "Host": "h", "Port": 1, "UseDicomTls": true}"#).useDicomTls)
    }

    @Test("DICOM TLS settings: certificate and key together, trusted certificates when the peer's is required; DicomTlsEnabled refused")
    func tlsSettings() throws {
        let full = try ConfigurationLoader(environment: ["ORTHANC_JSON": #"""
            {"DicomTlsCertificate": "/c.crt", "DicomTlsPrivateKey": "/c.key", "DicomTlsTrustedCertificates": "/t.crt"}
            """#]).load()
        #expect(full.dicomTls == DicomTlsSettings(certificate: "/c.crt", privateKey: "/c.key", trustedCertificates: "/t.crt"))
        let lax = try ConfigurationLoader(environment: ["ORTHANC_JSON": #"""
            {"DicomTlsCertificate": "/c.crt", "DicomTlsPrivateKey": "/c.key", "DicomTlsRemoteCertificateRequired": false}
            """#]).load()
        #expect(lax.dicomTls?.remoteCertificateRequired == false)
        #expect(try ConfigurationLoader(environment: [:]).load().dicomTls == nil)
        for bad in [#"{"DicomTlsCertificate": "/c.crt"}"#, #"{"DicomTlsCertificate": "/c.crt", "DicomTlsPrivateKey": "/c.key"}"#,
                    #"{"DicomTlsEnabled": true}"#] {
            #expect(throws: TesseraError.self, "\(bad)") { try ConfigurationLoader(environment: ["ORTHANC_JSON": bad]).load() }
        }
    }

    @Test("DicomModalities and the jobs keys of the configuration file; a bad modality names itself")
    func configurationKeys() throws {
        let document = try JSONValue.parse(text: """
            {"DicomModalities": {"scp": ["STORESCP", "127.0.0.1", 2000]}, "DicomScuTimeout": 3, "ConcurrentJobs": 4,
             "JobsHistorySize": 0, "SaveJobs": false, "LimitJobs": 10, "LogExportedResources": true,
             "DicomAssociationCloseDelay": 0, "DicomModalitiesInDatabase": true}
            """)
        let configuration = try TesseraConfiguration(document: document, environment: ["TESSERA_JOB_LEASE": "5"])
        #expect(configuration.modalities["scp"]?.port == 2000 && configuration.dicomScuTimeout == 3)
        #expect(configuration.concurrentJobs == 4 && configuration.jobsHistorySize == 0 && !configuration.saveJobs)
        #expect(configuration.logExportedResources && configuration.dicomAssociationCloseDelay == 0)
        #expect(configuration.dicomModalitiesInDatabase && configuration.jobLeaseSeconds == 5)
        let bad = try JSONValue.parse(text: #"{"DicomModalities": {"broken": ["A", "h"]}}"#)
        #expect { try TesseraConfiguration(document: bad, environment: [:]) } throws: {
            ($0 as? TesseraError)?.details?.contains("DicomModalities.broken") == true
        }
        #expect(throws: TesseraError.self) {
            try TesseraConfiguration(document: JSONValue.parse(text: #"{"DicomScuTimeout": -1}"#), environment: [:])
        }
    }

    @Test("Job timestamps as Orthanc prints them: UTC, microseconds")
    func timestamps() {
        let date = Date(timeIntervalSince1970: 1_551_865_943.5)
        #expect(JobJSON.timestamp(date) == "20190306T095223.500000")
    }

    @Test("DIMSE statuses: success, warnings and pending pass; refusals and errors fail")
    func statuses() {
        for status: UInt16 in [0x0000, 0x0001, 0x0107, 0x0116, 0xB000, 0xB007, 0xB006, 0xFF00] {
            #expect(!DimseStatus(rawValue: status).isFailure, "0x\(String(status, radix: 16))")
        }
        for status: UInt16 in [0xA700, 0xA900, 0xC000, 0x0110, 0x0122, 0x0211] {
            #expect(DimseStatus(rawValue: status).isFailure, "0x\(String(status, radix: 16))")
        }
    }

    @Test("Peers: the short and long forms, a trailing / added, secrets kept but not shown, bad forms refused")
    func peers() throws {
        let short = try PeerConfiguration(json: JSONValue.parse(text: #"["http://pacs:8042", "alice", "secret"]"#))
        #expect(short.url == "http://pacs:8042/" && short.username == "alice" && short.password == "secret")
        let shown = short.json
        #expect(shown["Password"] == .null && shown["Username"]?.stringValue == "alice" && shown["Pkcs11"]?.boolValue == false)
        #expect(try PeerConfiguration(json: short.storedJSON) == short, "what the database keeps reads back the same")
        let long = try PeerConfiguration(json: JSONValue.parse(text: """
            {"Url": "https://remote/", "HttpHeaders": {"X-Token": "t", "A": "b"}, "Timeout": 5}
            """))
        #expect(long.httpHeaders == ["X-Token": "t", "A": "b"] && long.timeout == 5 && long.username == nil)
        #expect(long.json["HttpHeaders"] == .array([.string("A"), .string("X-Token")]) && long.json["Password"] == nil)
        for text in [#"{"Url": 3}"#, #"["http://a/", "user"]"#, #"["ftp://a/"]"#, #"{"Url": "http://a/", "HttpHeaders": {"A": 1}}"#,
                     #"{"Url": "http://a/", "CertificateFile": "c.pem"}"#, #"{"Url": "http://a/", "Timeout": -2}"#] {
            #expect(throws: TesseraError.self, "\(text)") { try PeerConfiguration(json: JSONValue.parse(text: text)) }
        }
        #expect { try PeerConfiguration(json: JSONValue.parse(text: #"{"Url": "http://a/", "Pkcs11": true}"#)) } throws: {
            ($0 as? TesseraError)?.code == .notImplemented
        }
    }

    @Test("Query levels: Orthanc's names in any case, QueryRetrieveLevel values, the keys a retrieve carries")
    func queryLevels() {
        #expect(QueryLevel(name: "STUDY") == .study && QueryLevel(name: "image") == .instance && QueryLevel(name: "x") == nil)
        #expect(QueryLevel.instance.dicomValue == "IMAGE" && QueryLevel.series.child == .instance)
        #expect(QueryLevel.study.retrieveKeys == [.patientID, .studyInstanceUID, DicomTag(0x0008, 0x0050)])
    }

    @Test("C-FIND identifiers: names and gggg,eeee keys, the level and the retrieve keys added when normalizing, bad keys refused")
    func findIdentifiers() throws {
        let asked = try QueryIdentifiers.attributes(JSONValue.parse(text: #"{"PatientName": "DOE*", "0008,0020": "2020-"}"#))
        #expect(asked == [.patientName: "DOE*", DicomTag(0x0008, 0x0020): "2020-"])
        let sent = QueryIdentifiers.findQuery(asked, level: .series, normalize: true)
        #expect(sent[QueryLevel.tag] == "SERIES" && sent[.seriesInstanceUID] == "" && sent[.studyInstanceUID] == "")
        #expect(sent[.patientName] == "DOE*")
        let plain = QueryIdentifiers.findQuery(asked, level: .series, normalize: false)
        #expect(plain.count == 3 && plain[.seriesInstanceUID] == nil)
        #expect(QueryIdentifiers.keyed(plain)["0010,0010"] == "DOE*")
        #expect(throws: TesseraError.self) { try QueryIdentifiers.attributes(JSONValue.parse(text: #"{"NoSuchTag": ""}"#)) }
        #expect(throws: TesseraError.self) { try QueryIdentifiers.attributes(JSONValue.parse(text: #"{"PatientName": 3}"#)) }
        let shown = QueryIdentifiers.render([(.patientName, "DOE")], format: .human)
        #expect(shown["PatientName"]?.stringValue == "DOE")
        #expect(QueryLevel.series.isBelow(.study) && !QueryLevel.patient.isBelow(.study))
    }
}
