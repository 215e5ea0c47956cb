import DICOM
import Index
import Logging
import Model
import Storage

/// The C-FIND SCP at PATIENT, STUDY, SERIES and IMAGE levels (Patient Root and Study Root alike, as Orthanc): the
/// identifier's constraints run through ``ResourceSearch``, each match is answered with RetrieveAETitle, the
/// QueryRetrieveLevel as sent and every attribute the identifier holds: main tags of the resource and its ancestors,
/// computed attributes of its level, anything else read from the resource's first instance file, empty when absent.
public struct DicomFindHandler: Sendable {
    let search: ResourceSearch
    let answers: FindAnswerQueries
    let instances: InstanceQueries
    let blobs: BlobStore
    let settings: QueryRetrieveSettings
    let logger: Logger

    /// Matches answered per page (one index round trip each).
    static let pageSize = 200

    public init(search: ResourceSearch, answers: FindAnswerQueries, instances: InstanceQueries, blobs: BlobStore,
                settings: QueryRetrieveSettings, logger: Logger) {
        self.search = search
        self.answers = answers
        self.instances = instances
        self.blobs = blobs
        self.settings = settings
        self.logger = logger
    }

    /// The computed attributes by tag.
    static let computed: [DicomTag: FindAnswerQueries.Computed] = [
        DicomTag(0x0020, 0x1200): .numberOfPatientRelatedStudies, DicomTag(0x0020, 0x1202): .numberOfPatientRelatedSeries,
        DicomTag(0x0020, 0x1204): .numberOfPatientRelatedInstances, DicomTag(0x0020, 0x1206): .numberOfStudyRelatedSeries,
        DicomTag(0x0020, 0x1208): .numberOfStudyRelatedInstances, DicomTag(0x0008, 0x0061): .modalitiesInStudy,
        DicomTag(0x0008, 0x0062): .sopClassesInStudy, DicomTag(0x0020, 0x1209): .numberOfSeriesRelatedInstances,
    ]

    /// Answers one C-FIND through `responder`; the final status is returned (0xFE00 when a limit cut the answers, as
    /// Orthanc; 0xC000 for an identifier Orthanc refuses).
    public func handle(_ request: QueryRetrieveRequest, responder: QueryRetrieveResponder) async -> QueryRetrieveOutcome {
        do {
            let query = try DicomQuery(identifier: request.identifier)
            guard let levelText = query.levelText else {
                return .failure(.unableToProcess, "C-FIND request without the tag 0008,0052 (QueryRetrieveLevel)")
            }
            guard let level = DicomQuery.level(levelText) else {
                return .failure(.unableToProcess, "Unknown resource type: \(levelText)")
            }
            var builder = FindQueryBuilder(level: level)
            for key in query.keys where !key.value.isEmpty && key.vr != "SQ" {
                // Person names as CaseSensitivePN says; every other value is compared exactly (DICOM's rule).
                let sensitive = key.vr == "PN" ? settings.caseSensitivePN : true
                guard let constraint = try TagConstraint.parse(tag: key.tag, vr: key.vr, value: key.value, caseSensitive: sensitive) else {
                    continue
                }
                builder.add(constraint, vr: key.vr)
            }
            let limit = level == .instance ? settings.limitFindInstances : settings.limitFindResults
            if limit > 0 { builder.page(since: 0, limit: limit + 1) }
            var matches = try await search.matches(builder.query, fileConstraints: builder.fileConstraints)
            let complete = limit == 0 || matches.count <= limit
            if !complete { matches = Array(matches.prefix(limit)) }
            var start = 0
            while start < matches.count {
                let page = Array(matches[start..<min(matches.count, start + Self.pageSize)])
                start += page.count
                let rendered = try await render(page.map(\.key), level: level, query: query, levelText: levelText)
                switch await responder.answer(rendered, characterSet: DefaultEncoding.shared.specificCharacterSet) {
                case .sent: continue
                case .canceled: return QueryRetrieveOutcome(status: .cancel)
                case .broken: return QueryRetrieveOutcome(status: .unableToProcess)
                }
            }
            if !complete {
                logger.info("Too many results for an incoming C-FIND query", metadata: ["limit": "\(limit)"])
            }
            return QueryRetrieveOutcome(status: complete ? .success : .cancel)
        } catch let error as TesseraError {
            logger.info("C-FIND refused", metadata: ["callingAET": "\(request.callingAET)", "error": "\(error.details ?? error.message)"])
            return .failure(.unableToProcess, error.details ?? error.message)
        } catch {
            logger.error("C-FIND failed", metadata: ["callingAET": "\(request.callingAET)", "error": "\(error)"])
            return .failure(.unableToProcess, "The index could not be queried")
        }
    }

    /// The answers of one page of matches, in order.
    func render(_ keys: [Int64], level: ResourceLevel, query: DicomQuery, levelText: String) async throws -> [[(DicomTag, String)]] {
        let computed = Set(query.keys.compactMap { Self.computed[$0.tag] })
        let rows = try await answers.rows(level, keys: keys, computed: computed)
        // Names of the main tags an answer may take from the index: the level's and its ancestors'.
        var mainNames: [DicomTag: String] = [:]
        for candidate in ResourceLevel.allCases where candidate.depth <= level.depth {
            for main in MainDicomTag.forLevel(candidate) { mainNames[main.tag] = main.name }
        }
        let fromFiles = query.keys.filter {
            $0.tag != DicomQuery.retrieveAETitle && mainNames[$0.tag] == nil && Self.computed[$0.tag] == nil && $0.vr != "SQ"
        }
        var fileValues: [Int64: [DicomTag: String]] = [:]
        if !fromFiles.isEmpty {
            let files = try await instances.firstFiles(of: level, keys: keys)
            for key in keys {
                guard let file = files[key] else { continue }
                fileValues[key] = try? await blobs.withBlob(file) { path throws(TesseraError) in
                    let dicom = try DicomFile(path: path, maxReadLength: 4096)
                    let charset = DicomCharset(datasetOf: dicom)
                    var values: [DicomTag: String] = [:]
                    for wanted in fromFiles {
                        values[wanted.tag] = dicom.dataset.text(wanted.tag, charset: charset)
                    }
                    return values
                }
            }
        }
        return keys.compactMap { key -> [(DicomTag, String)]? in
            guard let row = rows[key] else { return nil }  // deleted since it matched
            var answer: [(DicomTag, String)] = [
                (DicomQuery.retrieveAETitle, settings.aeTitle), (DicomQuery.queryRetrieveLevel, levelText),
            ]
            for wanted in query.keys where wanted.tag != DicomQuery.retrieveAETitle {
                let value: String?
                if let item = Self.computed[wanted.tag] {
                    value = row.computed[item]
                } else if let name = mainNames[wanted.tag] {
                    value = row.tags[name]
                } else {
                    value = fileValues[key]?[wanted.tag]
                }
                answer.append((wanted.tag, value ?? ""))
            }
            return answer
        }
    }
}
