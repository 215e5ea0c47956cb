import PostgresNIO

/// `GET /instances/{id}` (and every route that starts from an instance) as a prepared statement.
struct InstanceByPublicID: PostgresPreparedStatement {
    typealias Row = PostgresRow

    static let sql = InstanceQueries.selection + " WHERE i.public_id = $1"

    let id: String

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(id)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { row }
}
