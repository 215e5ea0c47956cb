import Model

/// Where a resource level lives in the index: its table and the column that points to its parent's row.
struct LevelTable {
    let table: String
    /// Column of this table holding the parent row's `pk` (nil for patients).
    let parentColumn: String?

    static func of(_ level: ResourceLevel) -> LevelTable {
        switch level {
        case .patient: LevelTable(table: "patients", parentColumn: nil)
        case .study: LevelTable(table: "studies", parentColumn: "patient_pk")
        case .series: LevelTable(table: "series", parentColumn: "study_pk")
        case .instance: LevelTable(table: "instances", parentColumn: "series_pk")
        }
    }

    /// SQL selecting the `pk` of every `target` row related to the `anchor` row whose public ID is `$1`, where one of the
    /// two levels is an ancestor of the other: the join runs along the parent columns between them, ordered by `pk`.
    static func relatedKeysSQL(anchor: ResourceLevel, target: ResourceLevel) -> String {
        let all = ResourceLevel.allCases
        guard let a = all.firstIndex(of: anchor), let t = all.firstIndex(of: target) else { return "" }
        let lower = max(a, t), upper = min(a, t)
        var sql = "SELECT t\(t).pk FROM \(of(all[lower]).table) t\(lower)"
        var index = lower
        while index > upper {
            let child = of(all[index])
            let parent = of(all[index - 1])
            sql += " JOIN \(parent.table) t\(index - 1) ON t\(index - 1).pk = t\(index).\(child.parentColumn ?? "pk")"
            index -= 1
        }
        return sql + " WHERE t\(a).public_id = $1 ORDER BY t\(t).pk"
    }
}
