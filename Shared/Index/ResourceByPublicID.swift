import Model
import PostgresNIO

/// A level whose single-resource read is a named prepared statement (``ResourceByPublicID``).
protocol StatementLevel: Sendable {
    static var level: ResourceLevel { get }
}

enum PatientLevel: StatementLevel { static let level = ResourceLevel.patient }
enum StudyLevel: StatementLevel { static let level = ResourceLevel.study }
enum SeriesLevel: StatementLevel { static let level = ResourceLevel.series }

/// `GET /{patients,studies,series}/{id}` as a prepared statement: PostgreSQL parses and plans it once per connection.
struct ResourceByPublicID<Level: StatementLevel>: PostgresPreparedStatement {
    typealias Row = ResourceQueries.RecordRow

    static var sql: String { ResourceQueries.recordSQL(Level.level, where: "r.public_id = $1") }

    let id: String

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(id)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row {
        try row.decode(Row.self)
    }
}
