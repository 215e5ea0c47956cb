import CDICOM
import Model

/// A parsed DICOM file. Not thread-safe: use it from one task, extract values, then let it go.
public final class DicomFile {
    let handle: OpaquePointer
    /// False for a file borrowed from the C-STORE SCP, which DCMTK frees itself.
    private let owned: Bool

    /// Parses a Part-10 file held in memory. Throws `badFileFormat` when the bytes are not DICOM or are truncated,
    /// `serverBusy` when too much is being parsed at once.
    public init(bytes: some Collection<UInt8>) throws(TesseraError) {
        var error = [CChar](repeating: 0, count: 512)
        var failure: Int32 = 0
        let parsed: OpaquePointer? = bytes.withContiguousStorageIfAvailable { buffer in
            cdicom_file_parse(buffer.baseAddress, buffer.count, &failure, &error, error.count)
        } ?? Array(bytes).withUnsafeBufferPointer { buffer in
            cdicom_file_parse(buffer.baseAddress, buffer.count, &failure, &error, error.count)
        }
        guard let parsed else { throw Self.error(failure, error) }
        handle = parsed
        owned = true
    }

    /// Loads a file from disk; values longer than `maxReadLength` bytes are read only when accessed. Throws
    /// `badFileFormat` when it is not DICOM, `inexistentFile` when it cannot be opened, `serverBusy` when too much is
    /// being parsed at once.
    public init(path: String, maxReadLength: UInt32 = 4096) throws(TesseraError) {
        var error = [CChar](repeating: 0, count: 512)
        var failure: Int32 = 0
        guard let loaded = cdicom_file_load(path, maxReadLength, &failure, &error, error.count) else {
            throw Self.error(failure, error)
        }
        handle = loaded
        owned = true
    }

    private static func error(_ failure: Int32, _ text: [CChar]) -> TesseraError {
        let details = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        switch failure {
        case Int32(CDICOM_PARSE_BUSY.rawValue): return TesseraError(.serverBusy, details: details)
        case Int32(CDICOM_PARSE_UNREADABLE.rawValue): return TesseraError(.inexistentFile, details: details)
        default: return TesseraError(.badFileFormat, details: details)
        }
    }

    /// Wraps a file the C library owns; valid only while the C call that handed it out runs.
    init(borrowing handle: OpaquePointer) {
        self.handle = handle
        owned = false
    }

    deinit {
        if owned { cdicom_file_free(handle) }
    }

    /// The main dataset.
    public var dataset: DicomItem { DicomItem(pointer: cdicom_file_dataset(handle), owner: self) }

    /// The file meta information (group 0002).
    public var metaHeader: DicomItem { DicomItem(pointer: cdicom_file_meta(handle), owner: self) }
}

extension DicomFile {
    /// Where the top-level Pixel Data element starts in the Part-10 file at `path` (Orthanc's `PixelDataOffset`
    /// metadata), from the structural scan alone (nothing is parsed); nil when the file has no pixel data, is not
    /// Part-10, is deflated or cannot be read.
    public static func pixelDataOffset(path: String) -> Int? {
        let offset = cdicom_pixel_data_offset(path)
        return offset >= 0 ? Int(offset) : nil
    }
}

extension DicomFile {
    /// The transfer syntax the dataset was read in: the meta header's, or for a file without one, the syntax DCMTK
    /// detected (what Orthanc records as `TransferSyntax` metadata).
    public var datasetTransferSyntax: String? {
        var buffer = [CChar](repeating: 0, count: 65)
        guard cdicom_file_dataset_syntax(handle, &buffer, buffer.count) != 0 else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
