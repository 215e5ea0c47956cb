import Hummingbird
import Index
import Jobs
import Model

/// The edge receiver's datashares (Tessera's own routes): `GET /datashares` (`expand`), `GET|PUT|DELETE
/// /datashares/{id}`, `/datashares/{id}/configuration`, and `/datashares/{id}/statistics` (instances received,
/// bytes held, disk budget).
struct DatashareRoutes {
    let registry: DatashareRegistry
    let usage: DatashareUsage
    let defaultBudgetMB: Int

    func add(to router: Router<APIRequestContext>) {
        EndpointRoutes(registry: registry, operations: ["configuration", "statistics"]).add(to: router)
        router.get("/datashares/{id}/statistics") { _, context in
            let id = try EndpointRoutes<DatashareConfiguration>.name(context)
            let share = try await registry.endpoint(id)
            let used = try await usage.usage(of: [id])[id]
            return OrthancJSON.response(.object([
                "Instances": .number(Double(used?.instances ?? 0)), "DiskSize": .string(String(used?.bytes ?? 0)),
                "DiskBudget": .string(String(Int64(share.diskBudgetMB ?? defaultBudgetMB) << 20)),
            ]))
        }
    }
}
