import Logging
import Model
import PostgresNIO

extension ClusterStatistics {
    /// Reads the figures from the index (two round trips).
    public static func read(from database: IndexDatabase) async throws -> ClusterStatistics {
        let resources = try await ResourceQueries(database: database).statistics()
        var jobs = Dictionary(uniqueKeysWithValues: JobState.allCases.map { ($0, 0) })
        var lastChange: Int64 = 0
        var deadLetters = 0
        for try await (kind, name, count) in try await database.query("""
            SELECT 'job', state, COUNT(*)::BIGINT FROM jobs GROUP BY state
            UNION ALL SELECT 'change', '', COALESCE((SELECT MAX(seq) FROM changes),
                (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM changes_seq_seq))
            UNION ALL SELECT 'dead', '', COUNT(*)::BIGINT FROM dead_letters
            """, logger: database.logger).decode((String, String, Int64).self) {
            switch kind {
            case "job": if let state = JobState(rawValue: name) { jobs[state] = Int(count) }
            case "change": lastChange = count
            default: deadLetters = Int(count)
            }
        }
        return ClusterStatistics(patients: resources.patients, studies: resources.studies, series: resources.series,
                                 instances: resources.instances, diskSize: resources.diskSize, jobs: jobs,
                                 lastChange: lastChange, deadLetters: deadLetters)
    }
}
