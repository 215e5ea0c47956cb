import Foundation
import Model
import Testing

/// The configuration conventions operators bring from Orthanc and its Docker images.
@Suite("Configuration as Orthanc's deployments write it")
struct DeploymentConfigurationTests {
    private func temporaryFolder() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-deploy-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test("${VAR} in a configuration file: value, default, quoted defaults, unset and empty, other $ text kept")
    func substitution() {
        let environment = ["AET": "SITEA", "EMPTY": "", "PORT": "11112"]
        let substitute = { (text: String) in ConfigurationLoader.substituteVariables(text, environment: environment) }
        #expect(substitute("${AET}") == "SITEA")
        #expect(substitute("${MISSING}") == "")
        #expect(substitute("${MISSING:-fallback}") == "fallback")
        #expect(substitute("${MISSING:-\"a b\"}") == "a b")
        #expect(substitute("${MISSING:-'c'}") == "c")
        // Set but empty: empty, as Orthanc (not the shell's `:-`).
        #expect(substitute("${EMPTY:-fallback}") == "")
        #expect(substitute("{\"DicomPort\": ${PORT}, \"x\": \"$HOME ${A:x}\"}") == "{\"DicomPort\": 11112, \"x\": \"$HOME ${A:x}\"}")
        #expect(substitute("unterminated ${AET") == "unterminated ${AET")
    }

    @Test("A configuration file with ${VAR} references, read through TESSERA_CONFIG")
    func fileWithVariables() throws {
        let folder = try temporaryFolder()
        try #"{ "DicomAet": "${SITE_AET}", "DicomPort": ${SITE_PORT:-104}, "PostgreSQL": { "Host": "${DB:-db}" } }"#
            .write(toFile: folder + "/orthanc.json", atomically: true, encoding: .utf8)
        let configuration = try ConfigurationLoader(environment: ["TESSERA_CONFIG": folder, "SITE_AET": "RADIOLOGY"]).load()
        #expect(configuration.dicomAet == "RADIOLOGY")
        #expect(configuration.dicomPort == 104)
        #expect(configuration.database.host == "db")
    }

    @Test("ORTHANC__ names: nesting, the images' non-standard names (PostgreSQL), JSON values")
    func orthancVariables() throws {
        #expect(ConfigurationLoader.orthancPath("ORTHANC__POSTGRESQL__HOST") == ["PostgreSQL", "Host"])
        #expect(ConfigurationLoader.orthancPath("ORTHANC__CASE_SENSITIVE_PN") == ["CaseSensitivePN"])
        #expect(ConfigurationLoader.orthancPath("ORTHANC__DICOM_AET") == ["DicomAet"])
        let configuration = try ConfigurationLoader(environment: [
            "ORTHANC__POSTGRESQL__HOST": "pg.example", "ORTHANC__POSTGRESQL__PORT": "6543",
            "ORTHANC__POSTGRESQL__ENABLE_SSL": "true", "ORTHANC__CASE_SENSITIVE_PN": "true",
        ]).load()
        #expect(configuration.database.host == "pg.example")
        #expect(configuration.database.port == 6543)
        #expect(configuration.database.sslMode == .require)
        #expect(configuration.caseSensitivePN)
    }

    @Test("*_SECRET names a file under the secrets folder (or a path); files named ORTHANC__... are variables; secrets win")
    func secrets() throws {
        let secrets = try temporaryFolder()
        try "s3cret\n\n".write(toFile: secrets + "/pg-password", atomically: true, encoding: .utf8)
        try "{\"admin\": \"pw\"}".write(toFile: secrets + "/ORTHANC__REGISTERED_USERS", atomically: true, encoding: .utf8)
        try "kafka-secret".write(toFile: secrets + "/other", atomically: true, encoding: .utf8)
        let configuration = try ConfigurationLoader(environment: [
            "TESSERA_SECRETS_DIR": secrets,
            "ORTHANC__POSTGRESQL__PASSWORD": "plain", "ORTHANC__POSTGRESQL__PASSWORD_SECRET": "pg-password",
            "TESSERA_DICOM_AET_SECRET": secrets + "/other",
        ]).load()
        #expect(configuration.database.password == "s3cret")
        #expect(configuration.registeredUsers == ["admin": "pw"])
        #expect(configuration.dicomAet == "kafka-secret")
        #expect(throws: TesseraError.self) {
            try ConfigurationLoader(environment: ["TESSERA_SECRETS_DIR": secrets, "ORTHANC__X_SECRET": "missing"]).load()
        }
    }

    @Test("PostgreSQL.ConnectionUri, EnableSsl and TESSERA_PG_SSLMODE")
    func postgresTLS() throws {
        var settings = DatabaseSettings()
        try settings.apply(connectionURI: "postgresql://orthanc:pass%20word@db.example:5544/pacs?sslmode=verify-full&sslrootcert=/ca.pem")
        #expect(settings.host == "db.example")
        #expect(settings.port == 5544)
        #expect(settings.username == "orthanc")
        #expect(settings.password == "pass word")
        #expect(settings.database == "pacs")
        #expect(settings.sslMode == .verifyFull)
        #expect(settings.sslRootCertificate == "/ca.pem")
        #expect(throws: TesseraError.self) { try settings.apply(connectionURI: "mysql://x/y") }
        #expect(throws: TesseraError.self) { try settings.apply(connectionURI: "postgresql://x/y?sslmode=prefer") }
        let uri = try ConfigurationLoader(environment: [
            "ORTHANC_JSON": #"{"PostgreSQL": {"EnableSsl": true, "ConnectionUri": "postgresql://u@h/d"}}"#]).load()
        #expect(uri.database.sslMode == .disable, "the URI says everything, as Orthanc's plugin")
        let variable = try ConfigurationLoader(environment: ["TESSERA_PG_SSLMODE": "require"]).load()
        #expect(variable.database.sslMode == .require)
        #expect(throws: TesseraError.self) { try ConfigurationLoader(environment: ["TESSERA_PG_SSLMODE": "sometimes"]).load() }
    }

    @Test("Kafka.Properties pass librdkafka settings through; SslEnabled and SslCertificate")
    func brokerAndHTTPS() throws {
        let configuration = try ConfigurationLoader(environment: ["ORTHANC_JSON": """
            {"Kafka": {"Properties": {"security.protocol": "SASL_SSL", "sasl.mechanisms": "PLAIN", "socket.keepalive.enable": true}},
             "SslEnabled": true, "SslCertificate": "/etc/tessera/https.pem"}
            """]).load()
        #expect(configuration.broker.properties == ["security.protocol": "SASL_SSL", "sasl.mechanisms": "PLAIN",
                                                   "socket.keepalive.enable": "true"])
        #expect(configuration.sslEnabled)
        #expect(configuration.sslCertificate == "/etc/tessera/https.pem")
        #expect(throws: TesseraError.self) {
            try ConfigurationLoader(environment: ["ORTHANC_JSON": #"{"Kafka": {"Properties": ["x"]}}"#]).load()
        }
    }
}

@Suite("Configuration values from variables")
struct ConfigurationValueTests {
    @Test("An all-digit password or user from ORTHANC__ (JSON: a number) is read as its text; other types are refused")
    func digits() throws {
        let configuration = try ConfigurationLoader(environment: [
            "ORTHANC__POSTGRESQL__PASSWORD": "123456", "ORTHANC__POSTGRESQL__USERNAME": "42"]).load()
        #expect(configuration.database.password == "123456")
        #expect(configuration.database.username == "42")
        #expect(throws: TesseraError.self) { try ConfigurationLoader(environment: ["ORTHANC__POSTGRESQL__HOST": "true"]).load() }
    }
}
