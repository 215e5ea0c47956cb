import Index
import Model
import Testing

@Suite("PostgreSQL error classification")
struct DatabaseFailureTests {
    @Test("SQLSTATEs: conflicts retried, timeouts and unavailability transient, refusals of the data deterministic")
    func classes() {
        #expect(DatabaseFailure.classify(sqlState: "40001") == .conflict)
        #expect(DatabaseFailure.classify(sqlState: "40P01") == .conflict)
        #expect(DatabaseFailure.classify(sqlState: "57014") == .statementTimeout)
        for state in ["57P01", "57P03", "53300", "08006", "08001"] {
            #expect(DatabaseFailure.classify(sqlState: state) == .unavailable, "\(state)")
        }
        for state in ["54000", "22001", "22021", "22P05", "23505"] {
            #expect(DatabaseFailure.classify(sqlState: state) == .rejected(sqlState: state), "\(state)")
            #expect(!DatabaseFailure.classify(sqlState: state).isTransient)
        }
        #expect(DatabaseFailure.classify(sqlState: "42P01") == .other)
    }

    @Test("What a client sees: 503 when unavailable, Orthanc's codes kept")
    func answers() {
        let unavailable = DatabaseFailure.tesseraError(for: DatabaseUnavailable(reason: "test"))
        #expect(unavailable?.code == .databaseUnavailable)
        #expect(unavailable?.code.httpStatus == 503)
        #expect(unavailable?.code.code == 36)
        let own = TesseraError(.badFileFormat)
        #expect(DatabaseFailure.tesseraError(for: own)?.code == .badFileFormat)
    }
}
