import Synchronization

/// Orthanc's `DefaultEncoding` in this process: the character set of text in datasets that declare no
/// SpecificCharacterSet (read and written), and of C-FIND answers. It starts as the configuration says
/// (``set(_:)`` from `ServiceBootstrap`); `PUT /tools/default-encoding` changes it for the whole cluster, every
/// process applying what the index stores within a few seconds.
public final class DefaultEncoding: Sendable {
    /// The one of this process.
    public static let shared = DefaultEncoding()

    private let current = Mutex("Latin1")

    public init() {}

    /// The encoding's Orthanc name (`Latin1`, `Utf8`, ...).
    public var name: String { current.withLock { $0 } }

    /// Its SpecificCharacterSet defined term (`ISO_IR 100` for Latin1); Latin-1's for Windows1251, which has none.
    public var specificCharacterSet: String {
        let term = DicomEncoding.specificCharacterSet(of: name) ?? ""
        return term.isEmpty ? "ISO_IR 100" : term
    }

    /// Switches to an encoding Orthanc knows; false (and nothing changes) for an unknown name.
    @discardableResult
    public func set(_ name: String) -> Bool {
        guard DicomEncoding.specificCharacterSet(of: name) != nil else { return false }
        current.withLock { $0 = name }
        return true
    }
}
