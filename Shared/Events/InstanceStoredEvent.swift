import Foundation
import Model

/// Published once an instance's blob is durable; the indexer turns it into index rows.
/// Keyed by StudyInstanceUID so that one study's instances stay ordered on one partition.
/// Versioned: consumers refuse versions they do not know instead of misreading them (the indexer dead-letters
/// such an event; the reconciler still indexes its blob from the file).
///
/// Version 2 added `instance.fileMD5`; version 1 events are still read.
public struct InstanceStoredEvent: Sendable, Hashable, Codable {
    /// The schema version this code writes.
    public static let currentVersion = 2
    /// The versions this code reads.
    public static let readableVersions: ClosedRange<Int> = 1...2

    public var version: Int
    public var instance: StoredInstance

    public init(_ instance: StoredInstance) {
        self.version = Self.currentVersion
        self.instance = instance
    }

    /// The partitioning key.
    public var key: String { instance.summary.identifiers.studyInstanceUID }

    /// The wire form (JSON).
    public func encoded() throws(TesseraError) -> [UInt8] {
        if let written = EventJSONWriter.encode(self) { return written }
        return try encodedByFoundation()
    }

    /// The wire form through `JSONEncoder`: what ``encoded()`` falls back on, and what its writer is compared with.
    func encodedByFoundation() throws(TesseraError) -> [UInt8] {
        do {
            return Array(try Self.encoder.encode(self))
        } catch {
            throw TesseraError(.internalError, message: "Cannot encode an event", details: String(describing: error))
        }
    }

    /// Reads an event; throws `badJson` for a payload that is not an event of a known version, or whose blob ID is
    /// not a UUID.
    public static func decode(_ bytes: [UInt8]) throws(TesseraError) -> InstanceStoredEvent {
        let version: Int
        do {
            version = try decoder.decode(Header.self, from: Data(bytes)).version
        } catch {
            throw TesseraError(.badJson, message: "Not an InstanceStored event", details: String(describing: error))
        }
        guard readableVersions.contains(version) else {
            throw TesseraError(.badJson, message: "Unknown InstanceStored event version", details: "\(version)")
        }
        do {
            return try decoder.decode(InstanceStoredEvent.self, from: Data(bytes))
        } catch {
            throw TesseraError(.badJson, message: "Not an InstanceStored event", details: String(describing: error))
        }
    }

    /// The part every version shares.
    private struct Header: Decodable {
        var version: Int
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .millisecondsSince1970
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    private static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        return decoder
    }()
}
