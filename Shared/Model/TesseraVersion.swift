/// Tessera's version and the Orthanc release whose behaviour it follows (`/system`, `--version`).
public enum TesseraVersion {
    /// Tessera's own version (`TesseraVersion` in `/system`).
    public static let tessera = "0.1.0"
    /// The Orthanc release whose REST behaviour Tessera follows (`Version` in `/system`).
    public static let orthanc = "1.12.4"
    /// That release's `ApiVersion`.
    public static let orthancAPI = 24
}
