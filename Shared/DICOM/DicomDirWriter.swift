import CDICOM
import Model

/// Builds a DICOMDIR with DCMTK as Orthanc lays it out for media: PATIENT, STUDY, SERIES and IMAGE records
/// (IMAGE for every SOP class), values in ASCII, File-set ID `ORTHANC_MEDIA`. Not thread-safe; use on one thread.
public final class DicomDirWriter {
    private let handle: OpaquePointer

    /// Starts a DICOMDIR to be written at `path`; `extended` adds SeriesDescription to series records.
    public init(path: String, extended: Bool) throws(TesseraError) {
        var error = [CChar](repeating: 0, count: 512)
        guard let handle = cdicom_dicomdir_create(path, extended ? 1 : 0, &error, error.count) else {
            throw TesseraError(.cannotWriteFile, message: "Cannot create a DICOMDIR", details: Self.text(error))
        }
        self.handle = handle
    }

    deinit { cdicom_dicomdir_free(handle) }

    /// References the file at `path` as `fileID` (components joined by `\`).
    public func add(path: String, fileID: String) throws(TesseraError) {
        var error = [CChar](repeating: 0, count: 512)
        guard cdicom_dicomdir_add(handle, path, fileID, &error, error.count) != 0 else {
            throw TesseraError(.badFileFormat, details: Self.text(error))
        }
    }

    public func write() throws(TesseraError) {
        var error = [CChar](repeating: 0, count: 512)
        guard cdicom_dicomdir_write(handle, &error, error.count) != 0 else {
            throw TesseraError(.cannotWriteFile, message: "Cannot write a DICOMDIR", details: Self.text(error))
        }
    }

    private static func text(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
