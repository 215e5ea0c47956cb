import CDICOM

/// Process-wide set-up of the DICOM toolkit.
public enum DicomToolkit {
    /// Registers codecs and configures the toolkit's logging. Call once at start, before any other DICOM call.
    public static func initialize(verbose: Bool = false) {
        cdicom_global_init(verbose ? 1 : 0)
    }

    /// Whether the data dictionary could be loaded (parsing needs it).
    public static var isDictionaryLoaded: Bool { cdicom_dictionary_loaded() != 0 }
}
