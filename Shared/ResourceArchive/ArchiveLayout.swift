import Archive
import Index

/// The path of every entry of an archive, in the order of `entries` (patients, studies, series by public ID):
/// `Patient/Study/Series/XX000000.dcm`, sibling folders made unique, counters restarting in each series.
public enum ArchiveLayout {
    public static func paths(_ entries: [ArchiveEntry]) -> [String] {
        var patients = ArchiveNaming.Siblings()
        var studies: [String: ArchiveNaming.Siblings] = [:]
        var seriesNames: [String: ArchiveNaming.Siblings] = [:]
        var folders: [String: String] = [:]
        var counters: [String: Int] = [:]
        var paths: [String] = []
        for entry in entries {
            let patientKey = entry.patient.value
            if folders[patientKey] == nil {
                let raw = (entry.patientTags["PatientID"] ?? "") + " " + (entry.patientTags["PatientName"] ?? "")
                folders[patientKey] = patients.unique(ArchiveNaming.folder(raw, unknown: "Unknown Patient"))
            }
            let studyKey = entry.study.value
            if folders[studyKey] == nil {
                let raw = (entry.studyTags["AccessionNumber"] ?? "") + " " + (entry.studyTags["StudyDescription"] ?? "")
                folders[studyKey] = studies[patientKey, default: .init()].unique(ArchiveNaming.folder(raw, unknown: "Unknown Study"))
            }
            let seriesKey = entry.series.value
            if folders[seriesKey] == nil {
                let raw = (entry.seriesTags["Modality"] ?? "") + " " + (entry.seriesTags["SeriesDescription"] ?? "")
                folders[seriesKey] = seriesNames[studyKey, default: .init()].unique(ArchiveNaming.folder(raw, unknown: "Unknown Series"))
            }
            let counter = counters[seriesKey, default: 0]
            counters[seriesKey] = counter + 1
            let file = ArchiveNaming.file(modality: entry.seriesTags["Modality"] ?? "", counter: counter)
            paths.append([folders[patientKey], folders[studyKey], folders[seriesKey]].compactMap { $0 }.joined(separator: "/") + "/" + file)
        }
        return paths
    }
}
