import Foundation
import Model

/// An event or a blob the indexer could not index, kept with its reason instead of blocking its partition.
public struct DeadLetter: Sendable, Hashable {
    /// Where it came from: an event read from the broker, or a blob found by the reconciler.
    public enum Source: String, Sendable, Hashable {
        case event
        case reconciler
    }

    public var id: Int64
    public var createdAt: Date
    public var source: Source
    /// A short, stable reason (`undecodable-event`, `unknown-event-version`, `missing-blob`, `rejected-by-index`,
    /// `not-dicom`, ...).
    public var reason: String
    public var details: String?
    public var topic: String?
    public var partition: Int32?
    public var offset: Int64?
    public var blob: String?
    public var instance: String?
    /// Size of the event payload kept with it (the payload itself through ``DeadLetterStore/payload(_:)``).
    public var payloadSize: Int

    public init(id: Int64, createdAt: Date, source: Source, reason: String, details: String?, topic: String?,
                partition: Int32?, offset: Int64?, blob: String?, instance: String?, payloadSize: Int) {
        self.id = id
        self.createdAt = createdAt
        self.source = source
        self.reason = reason
        self.details = details
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.blob = blob
        self.instance = instance
        self.payloadSize = payloadSize
    }
}
