import Foundation
import Model
import Testing

@Suite("Configuration")
struct ConfigurationTests {
    private func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test("Defaults: REST 8042, DICOM 4242, AET TESSERA, loopback only")
    func defaults() throws {
        let configuration = try ConfigurationLoader(environment: [:]).load()
        #expect(configuration.httpPort == 8042)
        #expect(configuration.dicomPort == 4242)
        #expect(configuration.dicomAet == "TESSERA")
        #expect(configuration.remoteAccessAllowed == false)
        #expect(configuration.isAuthenticationRequired == false)
    }

    @Test("An Orthanc file with // and /* */ comments, and comment markers inside strings kept")
    func comments() throws {
        let folder = try temporaryFolder()
        let file = folder.appendingPathComponent("orthanc.json")
        try """
        {
          // the name
          "Name" : "Site // A /* not a comment */",
          /* several
             lines */
          "DicomAet" : "SITEA",   // trailing
          "DicomPort" : 11112,
          "HttpPort" : "8080",
          "StorageDirectory" : "/var/lib/x",
          "RegisteredUsers" : { "alice" : "secret" },
          "PostgreSQL" : { "Host" : "db", "Port" : 5544, "Database" : "pacs" }
        }
        """.write(to: file, atomically: true, encoding: .utf8)
        let configuration = try ConfigurationLoader(environment: ["TESSERA_CONFIG": file.path]).load()
        #expect(configuration.name == "Site // A /* not a comment */")
        #expect(configuration.dicomAet == "SITEA")
        #expect(configuration.dicomPort == 11112)
        #expect(configuration.httpPort == 8080)
        #expect(configuration.storageDirectory == "/var/lib/x")
        #expect(configuration.registeredUsers == ["alice": "secret"])
        #expect(configuration.database.host == "db")
        #expect(configuration.database.port == 5544)
        #expect(configuration.database.database == "pacs")
    }

    @Test("A folder: every .json merged in name order, other files ignored")
    func folder() throws {
        let folder = try temporaryFolder()
        try #"{ "DicomAet": "FIRST", "DicomPort": 1000 }"#.write(to: folder.appendingPathComponent("a.json"), atomically: true, encoding: .utf8)
        try #"{ "DicomAet": "SECOND" }"#.write(to: folder.appendingPathComponent("b.json"), atomically: true, encoding: .utf8)
        try "not json".write(to: folder.appendingPathComponent("notes.txt"), atomically: true, encoding: .utf8)
        let configuration = try ConfigurationLoader(environment: ["TESSERA_CONFIG": folder.path]).load()
        #expect(configuration.dicomAet == "SECOND")
        #expect(configuration.dicomPort == 1000)
    }

    @Test("Overrides: file < ORTHANC_JSON < ORTHANC__KEY < TESSERA_ variables")
    func overrides() throws {
        let folder = try temporaryFolder()
        let file = folder.appendingPathComponent("c.json")
        try #"{ "DicomAet": "FILE", "HttpPort": 1, "DicomPort": 2, "OverwriteInstances": false }"#.write(to: file, atomically: true, encoding: .utf8)
        let configuration = try ConfigurationLoader(environment: [
            "TESSERA_CONFIG": file.path,
            "ORTHANC_JSON": #"{ "DicomAet": "INLINE", "HttpPort": 3 }"#,
            "ORTHANC__DICOM_AET": "DOCKER",
            "ORTHANC__OVERWRITE_INSTANCES": "true",
            "TESSERA_HTTP_PORT": "9000",
        ]).load()
        #expect(configuration.dicomAet == "DOCKER")
        #expect(configuration.httpPort == 9000)
        #expect(configuration.dicomPort == 2)
        #expect(configuration.overwriteInstances == true)
    }

    @Test("Environment names convert as the Orthanc Docker images do")
    func orthancKeys() {
        #expect(ConfigurationLoader.orthancKey("DICOM_AET") == "DicomAet")
        #expect(ConfigurationLoader.orthancKey("HTTP_PORT") == "HttpPort")
        #expect(ConfigurationLoader.orthancKey("DICOM_CHECK_CALLED_AET") == "DicomCheckCalledAet")
    }

    @Test("Clear errors for bad files and bad values")
    func errors() throws {
        let folder = try temporaryFolder()
        let broken = folder.appendingPathComponent("broken.json")
        try #"{ "DicomAet": "X", "#.write(to: broken, atomically: true, encoding: .utf8)
        #expect(throws: TesseraError.self) { try ConfigurationLoader(environment: ["TESSERA_CONFIG": broken.path]).load() }
        #expect(throws: TesseraError.self) { try ConfigurationLoader(environment: ["TESSERA_CONFIG": folder.path + "/missing.json"]).load() }
        #expect(throws: TesseraError.self) { try ConfigurationLoader(environment: ["ORTHANC_JSON": #"{ "DicomPort": "abc" }"#]).load() }
        #expect(throws: TesseraError.self) { try ConfigurationLoader(environment: ["TESSERA_DICOM_PORT": "70000"]).load() }
        #expect(throws: TesseraError.self) { try ConfigurationLoader(environment: ["TESSERA_DICOM_AET": "AN-AE-TITLE-LONGER-THAN-16"]).load() }
        do {
            _ = try ConfigurationLoader(environment: ["ORTHANC_JSON": #"{ "HttpPort": true }"#]).load()
            Issue.record("a boolean port must be refused")
        } catch {
            #expect(error.details?.contains("HttpPort") == true)
        }
    }
}

@Suite("Accepted transfer syntaxes")
struct TransferSyntaxPolicyTests {
    @Test("By default every Orthanc transfer syntax, Explicit VR Little Endian first")
    func defaults() {
        let accepted = TransferSyntaxPolicy().accepted
        #expect(accepted.first == "1.2.840.10008.1.2.1")
        #expect(accepted.count == TransferSyntaxPolicy.known.count)
        for uid in ["1.2.840.10008.1.2", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.4.50",
                    "1.2.840.10008.1.2.4.70", "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.91", "1.2.840.10008.1.2.4.100",
                    "1.2.840.10008.1.2.4.102", "1.2.840.10008.1.2.4.107", "1.2.840.10008.1.2.5"] {
            #expect(accepted.contains(uid), "\(uid)")
        }
    }

    @Test("Group switches and AcceptedTransferSyntaxes patterns, read from Orthanc's keys")
    func configured() throws {
        let document = try JSONValue.parse(Data(#"""
            {"JpegTransferSyntaxAccepted": false, "Mpeg4TransferSyntaxAccepted": "false",
             "AcceptedTransferSyntaxes": ["1.2.840.10008.1.2", "1.2.840.10008.1.2.?", "1.2.840.10008.1.2.4.*"]}
            """#.utf8))
        let accepted = try TesseraConfiguration(document: document, environment: [:]).transferSyntaxes.accepted
        #expect(accepted.contains("1.2.840.10008.1.2"))
        #expect(accepted.contains("1.2.840.10008.1.2.1"))
        #expect(accepted.contains("1.2.840.10008.1.2.5"))
        #expect(!accepted.contains("1.2.840.10008.1.2.1.99"), "not matched by the patterns")
        #expect(!accepted.contains("1.2.840.10008.1.2.4.50") && !accepted.contains("1.2.840.10008.1.2.4.70"), "JPEG off")
        #expect(!accepted.contains("1.2.840.10008.1.2.4.102"), "MPEG-4 off")
        #expect(accepted.contains("1.2.840.10008.1.2.4.90"))
        #expect(throws: TesseraError.self) {
            try TesseraConfiguration(document: ["AcceptedTransferSyntaxes": .number(3)], environment: [:])
        }
    }

    @Test("Transcoding: IngestTranscoding checked against known syntaxes, quality 1-100, an unsupported preferred SCU syntax refused")
    func transcoding() throws {
        let configured = try TesseraConfiguration(document: [
            "IngestTranscoding": "1.2.840.10008.1.2.4.80", "IngestTranscodingOfCompressed": .bool(false),
            "DicomLossyTranscodingQuality": .number(50), "TranscodeDicomProtocol": .bool(false),
            "DicomScuPreferredTransferSyntax": "1.2.840.10008.1.2.1",
        ], environment: [:]).transcoding
        #expect(configured.ingestSyntax == "1.2.840.10008.1.2.4.80" && configured.lossyQuality == 50 && !configured.transcodeDicomProtocol)
        #expect(configured.ingestTarget(for: "1.2.840.10008.1.2.1") == "1.2.840.10008.1.2.4.80")
        #expect(configured.ingestTarget(for: "1.2.840.10008.1.2.4.50") == nil, "compressed sources left alone")
        #expect(configured.ingestTarget(for: "1.2.840.10008.1.2.4.80") == nil, "already in the syntax")
        #expect(configured.ingestTarget(for: "1.2.840.10008.1.2.4.102") == nil)
        for bad: JSONValue in [["IngestTranscoding": "1.2.3"], ["DicomLossyTranscodingQuality": .number(0)],
                               ["DicomScuPreferredTransferSyntax": "1.2.840.10008.1.2.4.50"]] {
            #expect(throws: TesseraError.self, "\(bad)") { try TesseraConfiguration(document: bad, environment: [:]) }
        }
        #expect(TranscodingSettings.isLossy("1.2.840.10008.1.2.4.50") && !TranscodingSettings.isLossy("1.2.840.10008.1.2.4.80"))
        #expect(throws: TesseraError.self) { try TranscodingSettings.validate("JPEGLSLossless") }
    }
}
