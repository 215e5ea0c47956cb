import CDICOM
import Model

/// The conversion of one dataset's text values to UTF-8, as Orthanc does it: from SpecificCharacterSet,
/// `DefaultEncoding` (Latin-1 unless configured otherwise) when the dataset has none. Not thread-safe; create one per dataset read.
public final class DicomCharset {
    let pointer: OpaquePointer?

    /// A converter for `specificCharacterSet` (the value of (0008,0005)). When neither DCMTK nor iconv can read
    /// that character set, text values keep their ASCII characters only (Orthanc's fallback).
    public init(specificCharacterSet: String) {
        var error = [CChar](repeating: 0, count: 256)
        pointer = cdicom_charset_create(specificCharacterSet, &error, error.count)
    }

    /// The converter for the dataset of `file`.
    public convenience init(datasetOf file: DicomFile) {
        let declared = file.dataset.string(.specificCharacterSet) ?? ""
        self.init(specificCharacterSet: declared.isEmpty ? DefaultEncoding.shared.specificCharacterSet : declared)
    }

    deinit {
        cdicom_charset_free(pointer)
    }
}
