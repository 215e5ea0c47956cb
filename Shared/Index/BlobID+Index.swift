import Model

extension BlobID {
    /// A blob ID read from the index; a value that is not a UUID (which only a forged row could hold) is refused, so
    /// no path ever reaches the blob store.
    static func stored(_ text: String) throws(TesseraError) -> BlobID {
        guard let id = BlobID(validating: text) else {
            throw TesseraError(.database, message: "The index names a blob that is not a UUID", details: String(text.prefix(80)))
        }
        return id
    }
}
