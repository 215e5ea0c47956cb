import Model
import PostgresNIO

/// Builds the SQL of a ``FindQuery``; values travel as bindings, never inside the SQL text.
struct FindStatement {
    private(set) var bindings = PostgresBindings()

    /// Columns that hold a UID or ID outside `main_tags` (already indexed).
    private static let columns: [String: String] = [
        "StudyInstanceUID": "study_instance_uid", "SeriesInstanceUID": "series_instance_uid",
        "SOPInstanceUID": "sop_instance_uid",
    ]

    mutating func sql(for original: FindQuery) -> String {
        let target = original.level.depth
        // At study level and below, patient tags are matched on the study's own copy (as Orthanc does).
        var query = original
        if target >= ResourceLevel.study.depth {
            query.constraints = query.constraints.map { constraint in
                constraint.level == .patient ? .init(level: .study, name: constraint.name, constraint: constraint.constraint,
                                                     column: "patient_tags") : constraint
            }
        }
        let top = query.constraints.map(\.level.depth).min().map { min($0, target) } ?? target
        let below = query.constraints.filter { $0.level.depth > target }
        let levels = ResourceLevel.allCases
        var sql = "SELECT t\(target).pk, t\(target).public_id FROM \(LevelTable.of(query.level).table) t\(target)"
        var depth = target
        while depth > top {
            let child = LevelTable.of(levels[depth])
            sql += " JOIN \(LevelTable.of(levels[depth - 1]).table) t\(depth - 1) ON t\(depth - 1).pk = t\(depth).\(child.parentColumn ?? "pk")"
            depth -= 1
        }
        var conditions: [String] = []
        for constraint in query.constraints where constraint.level.depth <= target {
            conditions.append(condition(constraint))
        }
        // Constraints on the level below (a study's series modalities): some child must match them all.
        if let child = query.level.child, !below.isEmpty {
            let table = LevelTable.of(child)
            let inner = below.map { condition($0) }.joined(separator: " AND ")
            conditions.append("EXISTS (SELECT 1 FROM \(table.table) t\(child.depth) WHERE t\(child.depth).\(table.parentColumn ?? "pk") = t\(target).pk AND \(inner))")
        }
        if let labels = labelsCondition(query, alias: "t\(target)") {
            conditions.append(labels)
        }
        if !conditions.isEmpty {
            sql += " WHERE " + conditions.joined(separator: " AND ")
        }
        // Orthanc 1.10's order: instances as they arrived, other levels by public ID.
        sql += " ORDER BY t\(target).\(query.level == .instance ? "pk" : "public_id") OFFSET \(max(0, query.since)) LIMIT " + (query.limit.map { String(max(0, $0)) } ?? "ALL")
        return sql
    }

    private mutating func bind(_ value: String) -> String {
        bindings.append(value)
        return "$\(bindings.count)"
    }

    private mutating func condition(_ item: FindQuery.Constraint) -> String {
        let alias = "t\(item.level.depth)"
        let plain = item.column == "main_tags" ? Self.columns[item.name].map { "\(alias).\($0)" } : nil
        let column = plain ?? "(\(alias).\(item.column)->>'\(Self.quoted(item.name))')"
        let constraint = item.constraint
        switch constraint.kind {
        case .equal(let value):
            return textEquals(column, value, caseSensitive: constraint.caseSensitive, indexed: plain != nil)
        case .list(let values):
            return "(" + values.map { textEquals(column, $0, caseSensitive: constraint.caseSensitive, indexed: plain != nil) }.joined(separator: " OR ") + ")"
        case .range(let lower, let upper):
            var parts = ["\(column) IS NOT NULL"]
            if let lower { parts.append("\(column) >= \(bind(lower))") }
            if let upper { parts.append("\(column) <= \(bind(upper))") }
            return "(" + parts.joined(separator: " AND ") + ")"
        case .wildcard(let pattern):
            if pattern.allSatisfy({ $0 == "*" }) { return "\(column) IS NOT NULL" }
            let like = bind(TagConstraint.likePattern(pattern))
            // The upper-cased comparison uses the trigram index; the exact one then keeps case-sensitive meaning.
            return constraint.caseSensitive
                ? "(upper(\(column)) LIKE upper(\(like)) AND \(column) LIKE \(like))"
                : "upper(\(column)) LIKE upper(\(like))"
        }
    }

    /// `indexed`: the column has its own B-tree (UIDs); otherwise the upper-cased expression index serves.
    private mutating func textEquals(_ column: String, _ value: String, caseSensitive: Bool, indexed: Bool) -> String {
        let parameter = bind(value)
        if indexed {
            return caseSensitive ? "\(column) = \(parameter)" : "upper(\(column)) = upper(\(parameter))"
        }
        return caseSensitive
            ? "(upper(\(column)) = upper(\(parameter)) AND \(column) = \(parameter))"
            : "upper(\(column)) = upper(\(parameter))"
    }

    private mutating func labelsCondition(_ query: FindQuery, alias: String) -> String? {
        let table = "\(LevelTable.of(query.level).table)_labels"
        let exists = { (filter: String) in "EXISTS (SELECT 1 FROM \(table) l WHERE l.resource_pk = \(alias).pk\(filter))" }
        switch query.labelsConstraint {
        case .all:
            guard !query.labels.isEmpty else { return nil }
            return query.labels.map { exists(" AND l.label = \(bind($0))") }.joined(separator: " AND ")
        case .any:
            guard !query.labels.isEmpty else { return nil }
            return "(" + query.labels.map { exists(" AND l.label = \(bind($0))") }.joined(separator: " OR ") + ")"
        case .none:
            guard !query.labels.isEmpty else { return "NOT " + exists("") }
            return query.labels.map { "NOT " + exists(" AND l.label = \(bind($0))") }.joined(separator: " AND ")
        }
    }

    private static func quoted(_ name: String) -> String {
        name.replacingOccurrences(of: "'", with: "''")
    }
}
