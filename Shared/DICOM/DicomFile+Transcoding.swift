import CDICOM
import Model

extension DicomFile {
    /// The file re-encoded in `syntax` (a transfer syntax UID) as Orthanc's built-in transcoder writes it (see
    /// `cdicom_file_transcode`), with a fresh meta header; nil when the file is already in that syntax (use its bytes
    /// as they are). Lossy targets need a ``UIDPolicy`` other than `.keep`. Throws `internalError` "Cannot transcode" when the
    /// syntax cannot be written or the pixel data cannot be decoded, `serverBusy` when memory is short. The parsed
    /// dataset is changed: do not use it afterwards.
    public func transcoded(to syntax: String, quality: Int = 90, uids: TranscodingUIDPolicy) throws(TesseraError) -> [UInt8]? {
        var error = [CChar](repeating: 0, count: 512)
        let policy: Int32 = switch uids {
        case .keep: 0
        case .allowNew: 1
        case .restore: 2
        }
        let status = cdicom_file_transcode(handle, syntax, Int32(max(1, min(100, quality))), policy, &error, error.count)
        let details = String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        switch Int(status) {
        case Int(CDICOM_TRANSCODE_UNCHANGED): return nil
        case Int(CDICOM_TRANSCODE_DONE): break
        case Int(CDICOM_TRANSCODE_BUSY): throw TesseraError(.serverBusy, details: details)
        default: throw TesseraError(.internalError, details: "Cannot transcode to transfer syntax \(syntax): \(details)")
        }
        var bytes: UnsafeMutablePointer<UInt8>?
        var length = 0
        guard cdicom_file_save(handle, 1, &bytes, &length, &error, error.count) != 0, let bytes else {
            let text = String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw TesseraError(.internalError, details: "Cannot transcode to transfer syntax \(syntax): \(text)")
        }
        defer { cdicom_free(bytes) }
        return Array(UnsafeBufferPointer(start: bytes, count: length))
    }
}
