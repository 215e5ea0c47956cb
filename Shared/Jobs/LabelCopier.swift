import Index
import Model

/// `KeepLabels` (Orthanc 1.12.3): the labels of an original instance, and of its series, study and patient, given to
/// the resources of its copy. The copy is waited for until it is indexed (labels belong to indexed resources), so a
/// job resumed after its worker died has labelled every copy its earlier run recorded.
struct LabelCopier {
    let labels: LabelStore
    let resources: ResourceQueries
    let instances: InstanceQueries
    /// The labels of the original series, studies and patients already read, and the parents of each.
    private var known: [PublicID: (labels: [String], parent: PublicID?)] = [:]

    init(labels: LabelStore, resources: ResourceQueries, instances: InstanceQueries) {
        self.labels = labels
        self.resources = resources
        self.instances = instances
    }

    mutating func copy(from original: InstanceRecord, to copy: InstanceIdentifiers) async throws {
        try await CopyCompletion.waitUntilIndexed([copy.instancePublicID], instances: instances)
        for label in original.labels {
            _ = try await labels.add(label, to: copy.instancePublicID, at: .instance)
        }
        var originalID: PublicID? = original.parentSeries
        for (level, target) in [(ResourceLevel.series, copy.seriesPublicID), (.study, copy.studyPublicID), (.patient, copy.patientPublicID)] {
            guard let id = originalID else { break }
            let entry = try await describe(id, at: level)
            for label in entry.labels {
                _ = try await labels.add(label, to: target, at: level)
            }
            originalID = entry.parent
        }
    }

    private mutating func describe(_ id: PublicID, at level: ResourceLevel) async throws -> (labels: [String], parent: PublicID?) {
        if let entry = known[id] { return entry }
        let record = try await resources.resource(level, id)
        let entry = (record?.labels ?? [], record?.parent)
        known[id] = entry
        return entry
    }
}
