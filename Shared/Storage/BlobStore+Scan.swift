#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Model

/// A file found on the blob store by a scan.
public struct ScannedFile: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// A blob (its file name is a UUID).
        case blob(BlobID)
        /// An incoming file, or a temporary file of an older Tessera (`.<uuid>.tmp` beside the blobs).
        case incoming
        /// Anything else: left alone.
        case other
    }

    public var kind: Kind
    public var path: String
    /// Last modification, in seconds since 1970.
    public var modified: Int64
}

extension BlobStore {
    /// The leaf folders (`root/ab/cd`) whose entries changed after `since` (seconds since 1970; nil: all of them).
    /// A folder's modification time moves whenever a file is added to it or removed from it.
    public func leafFolders(changedAfter since: Int64?) async throws(TesseraError) -> [String] {
        let root = self.root
        return try await performBlocking { () throws(TesseraError) -> [String] in
            var leaves: [String] = []
            for first in Self.listNames(root) where Self.isHexPair(first) {
                for second in Self.listNames(root + "/" + first) where Self.isHexPair(second) {
                    let folder = root + "/" + first + "/" + second
                    if let since, let modified = Self.modificationTime(folder), modified <= since { continue }
                    leaves.append(folder)
                }
            }
            return leaves
        }
    }

    /// The files of one folder (a leaf folder or the incoming folder), with their kinds and modification times.
    public func files(in folder: String) async throws(TesseraError) -> [ScannedFile] {
        try await performBlocking { () throws(TesseraError) -> [ScannedFile] in
            Self.listNames(folder).compactMap { name -> ScannedFile? in
                let path = folder + "/" + name
                guard let modified = Self.modificationTime(path, regularFile: true) else { return nil }
                let kind: ScannedFile.Kind
                if let id = BlobID(validating: name) {
                    kind = .blob(id)
                } else if name.hasSuffix(BlobStore.incomingSuffix) {
                    kind = .incoming
                } else {
                    kind = .other
                }
                return ScannedFile(kind: kind, path: path, modified: modified)
            }
        }
    }

    private static func listNames(_ folder: String) -> [String] {
        guard let directory = opendir(folder) else { return [] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    private static func modificationTime(_ path: String, regularFile: Bool = false) -> Int64? {
        var status = stat()
        guard lstat(path, &status) == 0 else { return nil }
        let type = status.st_mode & S_IFMT
        guard regularFile ? type == S_IFREG : type == S_IFDIR else { return nil }
        return Int64(status.st_mtim.tv_sec)
    }

    private static func isHexPair(_ name: String) -> Bool {
        name.utf8.count == 2 && name.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }
}
