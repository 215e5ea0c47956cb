import CRdKafka
import Model

/// librdkafka settings as key/value pairs, turned into an `rd_kafka_conf_t` when a client is created.
struct KafkaConfiguration {
    var settings: [(String, String)]

    /// Builds the native configuration; throws `badConfiguration` naming the rejected key.
    func makeNative() throws(TesseraError) -> OpaquePointer {
        guard let conf = rd_kafka_conf_new() else {
            throw TesseraError(.internalError, message: "Cannot allocate a Kafka configuration")
        }
        var error = [CChar](repeating: 0, count: 512)
        for (key, value) in settings {
            if rd_kafka_conf_set(conf, key, value, &error, error.count) != RD_KAFKA_CONF_OK {
                rd_kafka_conf_destroy(conf)
                throw TesseraError(.badConfiguration, message: "Bad Kafka setting \(key)", details: KafkaConfiguration.text(error))
            }
        }
        return conf
    }

    static func text(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func errorText(_ code: rd_kafka_resp_err_t) -> String {
        String(cString: rd_kafka_err2str(code))
    }
}
