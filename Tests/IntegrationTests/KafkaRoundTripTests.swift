import Events
import Foundation
import Logging
import Model
import Testing

extension ClusterTests {
    /// The producer and consumer against the real broker.
    @Suite("Kafka producer and consumer", .serialized)
    struct KafkaRoundTripTests {
        let environment: TestEnvironment
        let logger = Logger(label: "test.kafka")

        init() throws {
            environment = try TestEnvironment.load()
        }

        func event(_ index: Int) throws -> InstanceStoredEvent {
            let ids = try InstanceIdentifiers(patientID: "P", studyInstanceUID: "1.2.3", seriesInstanceUID: "1.2.3.4",
                                              sopInstanceUID: "1.2.3.4.\(index)")
            let summary = InstanceSummary(identifiers: ids, patientTags: ["PatientID": "P"], studyTags: [:], seriesTags: [:],
                                          instanceTags: ["InstanceNumber": "\(index)"], sopClassUID: "1.2.840.10008.5.1.4.1.1.2",
                                          transferSyntaxUID: "1.2.840.10008.1.2.1", indexInSeries: index)
            return InstanceStoredEvent(StoredInstance(summary: summary, fileUUID: BlobID.generate(), fileSize: index, fileMD5: nil, origin: "Test",
                                                      remoteAET: "A", calledAET: "B", remoteIP: "127.0.0.1",
                                                      receptionDate: Date(timeIntervalSince1970: 1_700_000_000)))
        }

        /// Polls until `count` messages arrived or `seconds` passed (a group join takes ~5 s on tansu).
        func receive(_ consumer: KafkaConsumer, count: Int, seconds: Int = 40) async -> [KafkaMessage] {
            var received: [KafkaMessage] = []
            let deadline = ContinuousClock.now + .seconds(seconds)
            while received.count < count && ContinuousClock.now < deadline {
                received += await consumer.poll(maximumCount: count - received.count, timeoutMilliseconds: 500)
            }
            return received
        }

        @Test("Acknowledged events are consumed in order; a restarted member resumes after the committed offset")
        func resumeFromCommittedOffset() async throws {
            let topic = "tessera-test-\(UUID().uuidString.prefix(8))"
            let group = "tessera-test-\(UUID().uuidString.prefix(8))"
            let producer = try KafkaProducer(bootstrapServers: environment.kafkaBrokers, topic: topic, partitions: 1,
                                             deliveryTimeoutMilliseconds: 15_000, logger: logger)
            let sent = try (0..<10).map(event)
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await producer.run() }
                for event in sent {
                    guard case .delivered = await producer.send(key: event.key, payload: try event.encoded()) else {
                        Issue.record("an event was not delivered")
                        return
                    }
                }
                tasks.cancelAll()
            }

            let first = try KafkaConsumer(bootstrapServers: environment.kafkaBrokers, groupID: group, logger: logger)
            try first.subscribe(topic)
            let firstBatch = await receive(first, count: 4)
            #expect(firstBatch.count == 4)
            #expect(firstBatch.map(\.offset) == [0, 1, 2, 3])
            try await first.commit(firstBatch)
            await first.close()

            let second = try KafkaConsumer(bootstrapServers: environment.kafkaBrokers, groupID: group, logger: logger)
            try second.subscribe(topic)
            let rest = await receive(second, count: 6)
            #expect(rest.map(\.offset) == [4, 5, 6, 7, 8, 9])
            let decoded = try rest.map { try InstanceStoredEvent.decode($0.payload) }
            #expect(decoded == Array(sent[4...]))
            #expect(rest.allSatisfy { $0.key == Array("1.2.3".utf8) })
            let extra = await second.poll(maximumCount: 10, timeoutMilliseconds: 1_000)
            #expect(extra.isEmpty)
            await second.close()
        }

        @Test("A broker that does not answer makes send fail within the delivery timeout, not hang")
        func unreachableBroker() async throws {
            let producer = try KafkaProducer(bootstrapServers: "127.0.0.1:1", topic: "nowhere", partitions: 1,
                                             deliveryTimeoutMilliseconds: 2_000, logger: logger)
            let start = ContinuousClock.now
            await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await producer.run() }
                switch await producer.send(key: "k", payload: [1]) {
                case .delivered: Issue.record("send to an unreachable broker succeeded")
                case .failed(let error, _): #expect(error.code == .brokerUnavailable)
                }
                #expect(!producer.canPublish)
                tasks.cancelAll()
            }
            #expect(ContinuousClock.now - start < .seconds(20))
        }

        @Test("Events of an unknown version are refused")
        func unknownVersion() throws {
            var payload = try event(1)
            payload.version = 99
            let bytes = try JSONEncoder().encode(payload)
            #expect(throws: TesseraError.self) { try InstanceStoredEvent.decode(Array(bytes)) }
            #expect(throws: TesseraError.self) { try InstanceStoredEvent.decode(Array("garbage".utf8)) }
        }
    }
}
