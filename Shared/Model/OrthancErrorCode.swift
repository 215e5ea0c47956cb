/// An Orthanc error code (`OrthancStatus` in error bodies) with its description and HTTP status.
/// New codes are added as static members, as `HTTPResponse.Status` does, so the set stays open.
public struct OrthancErrorCode: Sendable, Hashable, CustomStringConvertible {
    /// The numeric code Orthanc prints as `OrthancStatus`.
    public let code: Int
    /// The text Orthanc prints as `OrthancError`.
    public let description: String
    /// The HTTP status Orthanc answers with.
    public let httpStatus: Int

    public init(code: Int, description: String, httpStatus: Int) {
        self.code = code
        self.description = description
        self.httpStatus = httpStatus
    }

    public static let internalError = OrthancErrorCode(code: -1, description: "Internal error", httpStatus: 500)
    public static let notImplemented = OrthancErrorCode(code: 2, description: "Not implemented yet", httpStatus: 501)
    public static let parameterOutOfRange = OrthancErrorCode(code: 3, description: "Parameter out of range", httpStatus: 400)
    public static let notEnoughMemory = OrthancErrorCode(code: 4, description: "Not enough memory", httpStatus: 500)
    public static let badParameterType = OrthancErrorCode(code: 5, description: "Bad type for a parameter", httpStatus: 400)
    public static let badSequenceOfCalls = OrthancErrorCode(code: 6, description: "Bad sequence of calls", httpStatus: 400)
    public static let inexistentItem = OrthancErrorCode(code: 7, description: "Accessing an inexistent item", httpStatus: 404)
    public static let badRequest = OrthancErrorCode(code: 8, description: "Bad request", httpStatus: 400)
    public static let networkProtocol = OrthancErrorCode(code: 9, description: "Error in the network protocol", httpStatus: 500)
    public static let database = OrthancErrorCode(code: 11, description: "Error with the database engine", httpStatus: 500)
    public static let uriSyntax = OrthancErrorCode(code: 12, description: "Badly formatted URI", httpStatus: 400)
    public static let inexistentFile = OrthancErrorCode(code: 13, description: "Inexistent file", httpStatus: 404)
    public static let cannotWriteFile = OrthancErrorCode(code: 14, description: "Cannot write to file", httpStatus: 500)
    public static let badFileFormat = OrthancErrorCode(code: 15, description: "Bad file format", httpStatus: 400)
    public static let timeout = OrthancErrorCode(code: 16, description: "Timeout", httpStatus: 504)
    public static let unknownResource = OrthancErrorCode(code: 17, description: "Unknown resource", httpStatus: 404)
    public static let fullStorage = OrthancErrorCode(code: 19, description: "The file storage is full", httpStatus: 507)
    public static let corruptedFile = OrthancErrorCode(code: 20, description: "Corrupted file (e.g. inconsistent MD5 hash)", httpStatus: 500)
    public static let inexistentTag = OrthancErrorCode(code: 21, description: "Inexistent tag", httpStatus: 404)
    /// Orthanc 1.10 answers HTTP 500 with this code for an unknown tag name in a request; Tessera answers 400.
    public static let unknownDicomTag = OrthancErrorCode(code: 27, description: "Unknown DICOM tag", httpStatus: 400)
    public static let badJson = OrthancErrorCode(code: 28, description: "Cannot parse a JSON document", httpStatus: 400)
    public static let unauthorized = OrthancErrorCode(code: 29, description: "Bad credentials were provided to an HTTP request", httpStatus: 401)
    public static let databaseUnavailable = OrthancErrorCode(code: 36, description: "The database is currently not available (probably a transient situation)", httpStatus: 503)
    public static let sslInitialization = OrthancErrorCode(code: 39, description: "Cannot initialize SSL encryption, check out your certificates", httpStatus: 500)
    public static let canceledJob = OrthancErrorCode(code: 37, description: "Job was canceled", httpStatus: 500)
    /// A revision (`If-Match`) that is not the stored one, or none where `CheckRevisions` asks for one.
    public static let revision = OrthancErrorCode(code: 43, description: "A bad revision number was provided, which might indicate conflict between multiple writers", httpStatus: 409)
    public static let databaseCannotSerialize = OrthancErrorCode(code: 42, description: "Database could not serialize access due to concurrent updates, the transaction should be retried", httpStatus: 503)
    /// Orthanc's decoder cannot handle an image (code 2 as NotImplemented, but answered 500 as Orthanc does on the
    /// NumPy and Matlab routes).
    public static let unsupportedImage = OrthancErrorCode(code: 2, description: "Not implemented yet", httpStatus: 500)
    public static let incompatibleImageFormat = OrthancErrorCode(code: 23, description: "Incompatible format of the images", httpStatus: 500)
    public static let incompatibleImageSize = OrthancErrorCode(code: 24, description: "Incompatible size of the images", httpStatus: 500)
    public static let cannotOrderSlices = OrthancErrorCode(code: 2040, description: "Unable to order the slices of the series", httpStatus: 500)
    public static let cannotStoreInstance = OrthancErrorCode(code: 2018, description: "Cannot store an instance", httpStatus: 500)
    public static let createDicomNotString = OrthancErrorCode(code: 2019, description: "Only string values are supported when creating DICOM instances", httpStatus: 400)
    public static let createDicomOverrideTag = OrthancErrorCode(code: 2020, description: "Trying to override a value inherited from a parent module", httpStatus: 400)
    public static let createDicomUseContent = OrthancErrorCode(code: 2021, description: "Use \"Content\" to inject an image into a new DICOM instance", httpStatus: 400)
    public static let createDicomNoPayload = OrthancErrorCode(code: 2022, description: "No payload is present for one instance in the series", httpStatus: 400)
    public static let createDicomUseDataUriScheme = OrthancErrorCode(code: 2023, description: "The payload of the DICOM instance must be specified according to Data URI scheme", httpStatus: 400)
    public static let createDicomBadParent = OrthancErrorCode(code: 2024, description: "Trying to attach a new DICOM instance to an inexistent resource", httpStatus: 400)
    public static let createDicomParentIsInstance = OrthancErrorCode(code: 2025, description: "Trying to attach a new DICOM instance to an instance (must be a series, study or patient)", httpStatus: 400)
    public static let networkError = OrthancErrorCode(code: 2027, description: "DicomAssociationNetworkError", httpStatus: 500)
    // Tessera's own codes (Orthanc has none for these): kept outside Orthanc's ranges.
    public static let brokerUnavailable = OrthancErrorCode(code: 10_001, description: "The event broker is not available", httpStatus: 503)
    public static let badConfiguration = OrthancErrorCode(code: 10_002, description: "Bad configuration", httpStatus: 500)
    /// A request body past the configured maximum (Orthanc sets no limit).
    public static let requestTooLarge = OrthancErrorCode(code: 10_003, description: "Request entity too large", httpStatus: 413)
    /// Too much being parsed at once for the memory this process sets aside: the same request may succeed later.
    public static let serverBusy = OrthancErrorCode(code: 10_004, description: "The server is busy, retry later", httpStatus: 503)
    /// A synchronous call whose job no worker can run: no `tessera-worker` is alive.
    public static let noJobWorker = OrthancErrorCode(code: 10_005, description: "No job worker is running", httpStatus: 503)
}
