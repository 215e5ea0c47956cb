import Archive
import DICOM
import Foundation
import Index
import Model
import NIOCore
import Storage

/// What a ZIP archive of resources holds, in order: its entries' names, where each is read from and its size. A plain
/// archive names the stored files after Orthanc's folders (``ArchiveLayout``); a medium names them `IMAGES/IM<n>` and
/// ends with a DICOMDIR, written by DCMTK before anything is sent (a file that cannot go on a medium is a clear error,
/// not a truncated download). Built by the API (streamed answers) and by the worker (`Archive`/`Media` jobs).
public struct ArchivePlan: Sendable {
    /// A plain archive, or a medium (files under IMAGES/ and a DICOMDIR), possibly extended.
    public enum Kind: String, Sendable {
        case archive = "Archive"
        case media = "Media"
        case extendedMedia = "ExtendedMedia"
    }

    /// What an entry is read from.
    public enum EntrySource: Sendable {
        case blob(BlobID)
        case file(String)
    }

    public let names: [String]
    public let sources: [EntrySource]
    public let sizes: [UInt64]
    /// How many DICOM instances the archive holds (the DICOMDIR aside).
    public let instanceCount: Int
    /// The temporary folder holding the DICOMDIR of a medium and transcoded files; removed by ``cleanUp()``, or
    /// when the last copy of the plan goes (a response whose body never ran).
    public var temporaryFolder: String? { folder?.path }
    private let folder: TemporaryFolder?

    /// The entries' total size, before the ZIP's own headers.
    public var uncompressedSize: UInt64 { sizes.reduce(0, +) }

    /// The DICOM instances' total size (Orthanc's `UncompressedSize`: the DICOMDIR of a medium aside).
    public var instancesSize: UInt64 { sizes.prefix(instanceCount).reduce(0, +) }

    /// Plans the archive of `entries` (as ``InstanceQueries/archiveEntries(_:)`` lists them). With a `transcoding`,
    /// every file is first re-encoded in its transfer syntax into a temporary folder (the DICOMDIR of a medium then
    /// describes the re-encoded files); a file that cannot be re-encoded goes as stored, as Orthanc does.
    public static func make(_ entries: [ArchiveEntry], kind: Kind, blobs: BlobStore,
                            transcoding: ArchiveTranscoding? = nil) async throws -> ArchivePlan {
        var names = kind == .archive ? ArchiveLayout.paths(entries) : entries.indices.map { "IMAGES/IM\($0)" }
        var sources: [EntrySource] = entries.map { .blob($0.fileUUID) }
        var sizes = entries.map { blobs.size(of: $0.fileUUID).map(UInt64.init) ?? UInt64($0.fileSize) }
        var folder: String?
        if kind != .archive || transcoding != nil {
            folder = NSTemporaryDirectory() + "tessera-archive-" + UUID().uuidString
            do {
                try FileManager.default.createDirectory(atPath: folder ?? "", withIntermediateDirectories: true)
            } catch {
                throw TesseraError(.cannotWriteFile, details: "\(folder ?? ""): \(error)")
            }
        }
        do {
            if let transcoding, let folder {
                for (index, entry) in entries.enumerated() {
                    let target = folder + "/\(index).dcm"
                    if let size = try await transcoding.write(blobs.path(of: entry.fileUUID), to: target, blobs: blobs) {
                        sources[index] = .file(target)
                        sizes[index] = UInt64(size)
                    }
                }
            }
            if kind != .archive, let folder {
                let files = sources.map { source -> String in
                    switch source {
                    case .blob(let blob): blobs.path(of: blob)
                    case .file(let path): path
                    }
                }
                let built = try await dicomdir(files, in: folder, blobs: blobs, extended: kind == .extendedMedia)
                names.append("DICOMDIR")
                sources.append(.file(built.path))
                sizes.append(UInt64(built.size))
            }
        } catch {
            if let folder { try? FileManager.default.removeItem(atPath: folder) }
            throw error
        }
        return ArchivePlan(names: names, sources: sources, sizes: sizes, instanceCount: entries.count,
                           folder: folder.map(TemporaryFolder.init(path:)))
    }

    /// Writes the ZIP to `sink` as it is read: each entry's local header, the file in chunks, its data descriptor,
    /// then the central directory. Entries are stored (not deflated), byte for byte.
    public func write(blobs: BlobStore, to sink: (ByteBuffer) async throws -> Void) async throws {
        var zip = ZipStreamWriter()
        for index in names.indices {
            try await sink(zip.beginEntry(names[index], size: sizes[index]))
            switch sources[index] {
            case .blob(let blob):
                try await blobs.stream(blob) { chunk in
                    zip.entryData(chunk)
                    try await sink(chunk)
                }
            case .file(let path):
                let chunk = ByteBuffer(bytes: try Data(contentsOf: URL(fileURLWithPath: path)))
                zip.entryData(chunk)
                try await sink(chunk)
            }
            try await sink(try zip.endEntry())
        }
        try await sink(zip.finish())
    }

    /// Removes the temporary folder, if any.
    public func cleanUp() {
        folder?.remove()
    }

    /// Writes the DICOMDIR of the files at `paths` (referenced as IMAGES\\IM<n>) into `folder`.
    static func dicomdir(_ paths: [String], in folder: String, blobs: BlobStore, extended: Bool) async throws -> (path: String, size: Int) {
        try await blobs.performBlocking { () throws(TesseraError) -> (path: String, size: Int) in
            let path = folder + "/DICOMDIR"
            let writer = try DicomDirWriter(path: path, extended: extended)
            for (index, file) in paths.enumerated() {
                try writer.add(path: file, fileID: "IMAGES\\IM\(index)")
            }
            try writer.write()
            let size = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0
            return (path, size)
        }
    }
}
