/// A message read from the broker, copied out of librdkafka's buffers.
public struct KafkaMessage: Sendable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var key: [UInt8]?
    public var payload: [UInt8]
    /// The consumer's assignment when the message was read (see ``KafkaConsumer/commit(_:)``).
    public var assignment: UInt64 = 0
}
