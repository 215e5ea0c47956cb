import DICOM
import Foundation
import Model
import Storage

/// An archive's `transcode` (`Transcode`): the transfer syntax every file is re-encoded in, with the lossy quality
/// (DicomLossyTranscodingQuality). Lossy targets give the files new SOP Instance UIDs, as Orthanc's archives do.
public struct ArchiveTranscoding: Sendable {
    public let syntax: String
    public let quality: Int

    /// A transcoding to `syntax`, checked against the transfer syntaxes Orthanc knows (400 otherwise).
    public init(syntax: String, quality: Int) throws(TesseraError) {
        self.syntax = try TranscodingSettings.validate(syntax)
        self.quality = quality
    }

    /// Writes the file at `source` re-encoded into `target` and answers its size; nil when the file is already in the
    /// syntax or cannot be re-encoded (it then goes as stored). Throws `serverBusy` when memory is short.
    func write(_ source: String, to target: String, blobs: BlobStore) async throws -> Int? {
        let (syntax, quality) = (self.syntax, self.quality)
        return try await blobs.performBlocking { () throws(TesseraError) -> Int? in
            let file = try DicomFile(path: source, maxReadLength: 4096)
            let bytes: [UInt8]
            do throws(TesseraError) {
                guard let transcoded = try file.transcoded(to: syntax, quality: quality, uids: .allowNew) else { return nil }
                bytes = transcoded
            } catch {
                guard error.code == .internalError else { throw error }
                return nil
            }
            guard FileManager.default.createFile(atPath: target, contents: Data(bytes)) else {
                throw TesseraError(.cannotWriteFile, details: target)
            }
            return bytes.count
        }
    }
}
