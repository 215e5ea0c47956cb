/// The Kafka-protocol broker that carries ingest events. Read from the `Kafka` section
/// (`BootstrapServers`, `Topic`, `Partitions`, `ConsumerGroup`, `DeliveryTimeout` in ms) and `TESSERA_KAFKA_BROKERS`,
/// `TESSERA_KAFKA_TOPIC`, `TESSERA_KAFKA_PARTITIONS`, `TESSERA_KAFKA_GROUP`.
public struct BrokerSettings: Sendable, Hashable {
    public var bootstrapServers = "127.0.0.1:9092"
    public var topic = "tessera.instances"
    /// Partitions created for the topic when it does not exist yet; bounds how many indexers work in parallel.
    public var partitions = 8
    public var consumerGroup = "tessera-indexer"
    /// How long a produced event may wait for the broker's acknowledgement before the store fails.
    public var deliveryTimeoutMilliseconds = 30_000

    /// More librdkafka settings for every client (`Kafka.Properties`: `security.protocol`, `sasl.mechanisms`,
    /// `sasl.username`, `sasl.password`, `ssl.ca.location`, ...), so a secured Kafka cluster can be reached. A setting
    /// librdkafka does not know stops the service at start with its name.
    public var properties: [String: String] = [:]

    public init() {}
}
