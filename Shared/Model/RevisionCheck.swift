/// What a write of a metadata entry or an attachment expects to replace (Orthanc's `If-Match` with `CheckRevisions`).
public enum RevisionCheck: Sendable, Hashable {
    /// Write whatever is stored (no `If-Match`, `CheckRevisions` false).
    case none
    /// Replace only this revision with this MD5; an entry that does not exist yet is created whatever is given.
    case matching(EntityTag)
    /// Create only: an existing entry is a conflict (no `If-Match` while `CheckRevisions` is true).
    case absent

    /// Whether writing over a stored entry (`stored` nil when there is none) is allowed; throws Orthanc's revision
    /// error (409) when it is not.
    public func verify(_ stored: EntityTag?) throws(TesseraError) {
        guard let stored else { return }
        switch self {
        case .none: return
        case .matching(let expected) where expected == stored: return
        case .matching, .absent: throw TesseraError(.revision)
        }
    }
}
