import CRdKafka
import Model

/// Topic administration over an existing client handle.
enum KafkaTopics {
    /// Whether a broker answers a metadata request within the timeout, and how many partitions `topic` has there (nil
    /// when the broker does not know it). Blocking: call it off the cooperative pool.
    static func probe(handle: OpaquePointer, topic: String, timeoutMilliseconds: Int32) -> (reachable: Bool, partitions: Int?) {
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let code = rd_kafka_metadata(handle, 1, nil, &metadata, timeoutMilliseconds)
        guard code == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
            if let metadata { rd_kafka_metadata_destroy(metadata) }
            return (false, nil)
        }
        defer { rd_kafka_metadata_destroy(metadata) }
        for index in 0..<Int(metadata.pointee.topic_cnt) {
            let entry = metadata.pointee.topics[index]
            guard let name = entry.topic, String(cString: name) == topic else { continue }
            guard entry.err == RD_KAFKA_RESP_ERR_NO_ERROR, entry.partition_cnt > 0 else { return (true, nil) }
            return (true, Int(entry.partition_cnt))
        }
        return (true, nil)
    }

    /// Creates `topic` with `partitions` partitions unless it exists. Blocking: call it off the cooperative pool.
    static func ensure(handle: OpaquePointer, topic: String, partitions: Int, timeoutMilliseconds: Int32) throws(TesseraError) {
        var error = [CChar](repeating: 0, count: 512)
        guard let newTopic = rd_kafka_NewTopic_new(topic, Int32(partitions), 1, &error, error.count) else {
            throw TesseraError(.badConfiguration, message: "Bad Kafka topic", details: KafkaConfiguration.text(error))
        }
        defer { rd_kafka_NewTopic_destroy(newTopic) }
        guard let queue = rd_kafka_queue_new(handle) else {
            throw TesseraError(.internalError, message: "Cannot allocate a Kafka queue")
        }
        defer { rd_kafka_queue_destroy(queue) }
        let options = rd_kafka_AdminOptions_new(handle, RD_KAFKA_ADMIN_OP_CREATETOPICS)
        defer { rd_kafka_AdminOptions_destroy(options) }
        _ = rd_kafka_AdminOptions_set_request_timeout(options, timeoutMilliseconds, &error, error.count)
        var topics: [OpaquePointer?] = [newTopic]
        rd_kafka_CreateTopics(handle, &topics, 1, options, queue)
        guard let event = rd_kafka_queue_poll(queue, timeoutMilliseconds + 1_000) else {
            throw TesseraError(.brokerUnavailable, message: "The broker did not answer a topic creation", details: topic)
        }
        defer { rd_kafka_event_destroy(event) }
        let eventError = rd_kafka_event_error(event)
        if eventError != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw TesseraError(.brokerUnavailable, message: "Cannot create the Kafka topic \(topic)",
                               details: String(cString: rd_kafka_event_error_string(event)))
        }
        guard let result = rd_kafka_event_CreateTopics_result(event) else { return }
        var count = 0
        guard let results = rd_kafka_CreateTopics_result_topics(result, &count) else { return }
        for index in 0..<count {
            let code = rd_kafka_topic_result_error(results[index])
            if code != RD_KAFKA_RESP_ERR_NO_ERROR && code != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS {
                throw TesseraError(.brokerUnavailable, message: "Cannot create the Kafka topic \(topic)",
                                   details: KafkaConfiguration.errorText(code))
            }
        }
    }
}
