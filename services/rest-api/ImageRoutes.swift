import Archive
import Foundation
import Hummingbird
import Imaging
import Index
import Model
import Storage

/// Orthanc's decoded-image routes (Orthanc 1.10 answers, kept status for status):
/// `/instances/{id}[/frames/{frame}]/{preview,image-uint8,image-uint16,image-int16,rendered,matlab,numpy}`,
/// `/instances/{id}/frames/{frame}/{raw,raw.gz}`, `/instances/{id}/pdf`, `/series/{id}/numpy`.
///
/// The image routes answer as Orthanc's `IDecodedFrameHandler`: a frame that is not a number, past the last native
/// frame, of an unknown instance, or an output the Accept header does not allow → 404 with no body; any other failure
/// (no pixel data, an image the decoder does not handle, a corrupted stream) → 415 with no body. The NumPy, Matlab
/// and raw routes answer Orthanc's error JSON. Decoding runs on the image thread pool (`imageBlobs`), a bounded
/// number at a time; memory comes from the process's parse budget (503 when short).
struct ImageRoutes {
    let instances: InstanceQueries
    let resources: ResourceQueries
    /// The blob store whose thread pool decodes images.
    let imageBlobs: BlobStore

    func add(to router: Router<APIRequestContext>) {
        let modes: [(String, ImageExtractionMode)] = [("preview", .preview), ("image-uint8", .uint8),
                                                      ("image-uint16", .uint16), ("image-int16", .int16)]
        for (name, mode) in modes {
            router.get("/instances/{id}/\(name)") { request, context in
                try await image(request, context, frame: "0", output: .extraction(mode))
            }
            router.get("/instances/{id}/frames/{frame}/\(name)") { request, context in
                try await image(request, context, frame: context.parameters.get("frame") ?? "", output: .extraction(mode))
            }
        }
        router.get("/instances/{id}/rendered") { request, context in
            try await image(request, context, frame: "0", output: .rendered)
        }
        router.get("/instances/{id}/frames/{frame}/rendered") { request, context in
            try await image(request, context, frame: context.parameters.get("frame") ?? "", output: .rendered)
        }
        router.get("/instances/{id}/matlab") { _, context in
            try await matlab(context, frame: "0")
        }
        router.get("/instances/{id}/frames/{frame}/matlab") { _, context in
            try await matlab(context, frame: context.parameters.get("frame") ?? "")
        }
        router.get("/instances/{id}/frames/{frame}/raw") { _, context in
            try await raw(context, gzip: false)
        }
        router.get("/instances/{id}/frames/{frame}/raw.gz") { _, context in
            try await raw(context, gzip: true)
        }
        router.get("/instances/{id}/frames/{frame}/numpy") { request, context in
            let text = (context.parameters.get("frame") ?? "").trimmingCharacters(in: .whitespaces)
            guard let frame = UInt32(text) else {
                throw TesseraError(.parameterOutOfRange, details: "not a frame number: \(text)")
            }
            return try await instanceNumpy(request, context, frame: Int(frame))
        }
        router.get("/instances/{id}/numpy") { request, context in
            try await instanceNumpy(request, context, frame: nil)
        }
        router.get("/series/{id}/ordered-slices") { _, context in
            try await orderedSlices(context)
        }
        router.get("/series/{id}/numpy") { request, context in
            try await seriesNumpy(request, context)
        }
        router.get("/instances/{id}/pdf") { _, context in
            let record = try await record(context)
            guard let document = try await imageBlobs.withBlob(record.fileUUID, { path throws(TesseraError) in
                try InstanceImage.pdf(path: path)
            }) else { return Response(status: .notFound) }
            return Self.binary(document, type: "application/pdf")
        }
    }

    private enum Output {
        case extraction(ImageExtractionMode)
        case rendered
    }

    private func record(_ context: APIRequestContext) async throws -> InstanceRecord {
        guard let id = context.publicID, let record = try await instances.instance(id) else {
            throw TesseraError(.unknownResource)
        }
        return record
    }

    /// A frame number as Orthanc's `lexical_cast<unsigned int>` reads it: digits, or a minus sign and digits that
    /// wrap around (`-1` is 4294967295, past any frame).
    private static func frameNumber(_ text: String) -> Int? {
        let negative = text.hasPrefix("-")
        let digits = negative ? text.dropFirst() : Substring(text)
        guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let value = UInt32(digits) else { return nil }
        return Int(negative ? 0 &- value : value)
    }

    private func image(_ request: Request, _ context: APIRequestContext, frame text: String, output: Output) async throws -> Response {
        guard let frame = Self.frameNumber(text), let id = context.publicID, let record = try await instances.instance(id) else {
            return Response(status: .notFound)
        }
        let query = request.uri.queryParameters
        let accept = request.headers[.accept]
        do {
            let (bytes, type) = try await imageBlobs.withBlob(record.fileUUID) { path throws(TesseraError) -> ([UInt8], String) in
                // Orthanc's order: decode, render, check the JPEG quality, negotiate, extract, encode.
                let (decoded, attributes) = try InstanceImage.decode(path: path, frame: frame)
                var image = decoded
                if case .rendered = output {
                    image = try ImageRenderer.render(decoded, attributes: attributes, parameters: try Self.renderParameters(query))
                }
                let quality = try Self.quality(query)
                guard let encoding = try ImageEncoding.negotiate(accept: accept) else {
                    throw TesseraError(.parameterOutOfRange, details: "no acceptable image format")
                }
                if case .extraction(let mode) = output {
                    if encoding == .jpeg, mode == .uint16 || mode == .int16 {
                        throw TesseraError(.parameterOutOfRange, details: "JPEG holds 8-bit images only")
                    }
                    image = try mode.apply(to: decoded, invert: mode == .preview && attributes.isInverted)
                }
                return (try encoding.encode(image, quality: quality), encoding.rawValue)
            }
            return Self.binary(bytes, type: type)
        } catch {
            switch error.code {
            case .parameterOutOfRange, .unknownResource: return Response(status: .notFound)
            case .serverBusy, .inexistentFile: throw error
            default: return Response(status: .unsupportedMediaType)
            }
        }
    }

    /// `?quality` of JPEG answers: 1-100, 90 by default (checked even when another format is chosen, as Orthanc).
    private static func quality(_ query: Parameters) throws(TesseraError) -> Int {
        guard let text = query["quality"].map(String.init) else { return 90 }
        guard let value = Int(text), value >= 1, value <= 100 else {
            throw TesseraError(.badRequest, details: "quality must be between 1 and 100")
        }
        return value
    }

    private static func renderParameters(_ query: Parameters) throws(TesseraError) -> RenderParameters {
        var parameters = RenderParameters()
        func size(_ name: String) throws(TesseraError) -> Int {
            guard let text = query[Substring(name)].map(String.init) else { return 0 }
            guard let value = Int(text), value >= 0, value <= RenderParameters.maximumSide else {
                throw TesseraError(.parameterOutOfRange, details: "\(name) must be an integer from 0 to \(RenderParameters.maximumSide)")
            }
            return value
        }
        func number(_ name: String) throws(TesseraError) -> Double? {
            guard let text = query[Substring(name)].map({ String($0).trimmingCharacters(in: .whitespaces) }) else { return nil }
            guard let value = Double(text), value.isFinite else {
                throw TesseraError(.parameterOutOfRange, details: "\(name) must be a number")
            }
            return value
        }
        parameters.width = try size("width")
        parameters.height = try size("height")
        parameters.windowCenter = try number("window-center")
        parameters.windowWidth = try number("window-width")
        if let text = query["smooth"].map({ String($0).trimmingCharacters(in: .whitespaces) }) {
            switch text {
            case "1", "true": parameters.smooth = true
            case "0", "false": parameters.smooth = false
            default: throw TesseraError(.badFileFormat, details: "smooth must be true or false")
            }
        }
        return parameters
    }

    private func matlab(_ context: APIRequestContext, frame text: String) async throws -> Response {
        guard let frame = Self.frameNumber(text) else { return Response(status: .notFound) }
        let record = try await record(context)
        let text = try await imageBlobs.withBlob(record.fileUUID) { path throws(TesseraError) in
            try MatlabWriter.text(InstanceImage.decode(path: path, frame: frame).image)
        }
        return Response(status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    private func raw(_ context: APIRequestContext, gzip: Bool) async throws -> Response {
        guard let frame = Self.frameNumber(context.parameters.get("frame") ?? "") else { return Response(status: .notFound) }
        let record = try await record(context)
        let (bytes, type) = try await imageBlobs.withBlob(record.fileUUID) { path throws(TesseraError) in
            try InstanceImage.storedFrame(path: path, frame: frame)
        }
        guard gzip else { return Self.binary(bytes, type: type) }
        guard let compressed = ZlibCompression.gzip(bytes, level: 6) else {
            throw TesseraError(.internalError, details: "gzip compression failed")
        }
        return Self.binary(compressed, type: "application/gzip")
    }

    /// Orthanc's boolean arguments: absent → the default, empty, `1` or `true` → true, `0` or `false` → false.
    private static func flag(_ query: Parameters, _ name: String, default fallback: Bool) throws(TesseraError) -> Bool {
        guard let text = query[Substring(name)].map(String.init) else { return fallback }
        switch text {
        case "", "1", "true": return true
        case "0", "false": return false
        default: throw TesseraError(.parameterOutOfRange, details: "\(name) must be a boolean, not \(text)")
        }
    }

    private func instanceNumpy(_ request: Request, _ context: APIRequestContext, frame: Int?) async throws -> Response {
        let query = request.uri.queryParameters
        let rescale = try Self.flag(query, "rescale", default: true)
        let compress = try Self.flag(query, "compress", default: false)
        let record = try await record(context)
        let array = try await imageBlobs.withBlob(record.fileUUID) { path throws(TesseraError) -> [UInt8] in
            var stack = NumpyStack(rescale: rescale, stacked: frame == nil)
            if let frame {
                let (image, attributes) = try InstanceImage.decode(path: path, frame: frame)
                try stack.append(image, attributes: attributes)
            } else {
                try InstanceImage.forEachFrame(path: path) { image, attributes throws(TesseraError) in
                    try stack.append(image, attributes: attributes)
                }
            }
            return try stack.output(compress: compress)
        }
        return Self.binary(array, type: "application/octet-stream")
    }

    /// The instances of a series in Orthanc's slice order (`SliceOrdering`), each with its frame count as Orthanc counts
    /// it (the index's NumberOfFrames; 1 when absent or unreadable), and whether the order is a volume's.
    private func slices(of context: APIRequestContext) async throws -> (slices: [(record: InstanceRecord, frames: Int)], isVolume: Bool) {
        guard let id = context.publicID, let series = try await resources.resource(.series, id) else {
            throw TesseraError(.unknownResource)
        }
        let records = try await instances.records(ids: series.children)
        let slices = series.children.compactMap { child in
            records[child].map {
                SliceOrdering.Slice(id: child, position: $0.mainTags["ImagePositionPatient"],
                                    orientation: $0.mainTags["ImageOrientationPatient"], indexInSeries: $0.indexInSeries)
            }
        }
        guard !slices.isEmpty else { throw TesseraError(.badSequenceOfCalls, details: "the series has no instance") }
        let ordering = try SliceOrdering.ordering(slices, seriesOrientation: series.mainTags["ImageOrientationPatient"])
        let ordered = ordering.slices.compactMap { slice in
            records[slice.id].map { record in
                (record, record.mainTags["NumberOfFrames"].flatMap { UInt32($0.trimmingCharacters(in: .whitespaces)) }.map(Int.init) ?? 1)
            }
        }
        return (ordered, ordering.isVolume)
    }

    /// `GET /series/{id}/ordered-slices` (Orthanc's `SliceOrdering::Format`): the files and frames in slice order.
    private func orderedSlices(_ context: APIRequestContext) async throws -> Response {
        let (ordered, isVolume) = try await slices(of: context)
        var dicom: [JSONValue] = [], frames: [JSONValue] = [], short: [JSONValue] = []
        for (record, count) in ordered {
            let id = record.publicID.value
            dicom.append(.string("/instances/\(id)/file"))
            frames += (0..<count).map { .string("/instances/\(id)/frames/\($0)") }
            short.append(.array([.string(id), .number(0), .number(Double(count))]))
        }
        return OrthancJSON.response(.object(["Type": .string(isVolume ? "Volume" : "Sequence"), "Dicom": .array(dicom),
                                             "Slices": .array(frames), "SlicesShort": .array(short)]))
    }

    private func seriesNumpy(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        let rescale = try Self.flag(query, "rescale", default: true)
        let compress = try Self.flag(query, "compress", default: false)
        let (ordered, _) = try await slices(of: context)
        let plan: [(path: String, frames: Int)] = ordered.map { (imageBlobs.path(of: $0.record.fileUUID), $0.frames) }
        // The files are decoded a few at a time on the image threads (one task per thread), then stacked in order.
        let lanes = max(1, min(ProcessInfo.processInfo.activeProcessorCount, plan.count))
        let frames = try await withThrowingTaskGroup(of: (Int, [ImageBuffer]).self) { group in
            for lane in 0..<lanes {
                let share = Array(stride(from: lane, to: plan.count, by: lanes))
                group.addTask {
                    var decoded: [ImageBuffer] = []
                    for position in share {
                        let (path, count) = plan[position]
                        let images = try await imageBlobs.performBlocking { () throws(TesseraError) -> [ImageBuffer] in
                            guard FileManager.default.fileExists(atPath: path) else {
                                throw TesseraError(.inexistentFile, details: "a file of the series is missing from the storage")
                            }
                            var images: [ImageBuffer] = []
                            try InstanceImage.forEachFrame(path: path, count: count) { image, attributes throws(TesseraError) in
                                images.append(try NumpyStack.converted(image, rescale: rescale, attributes: attributes))
                            }
                            return images
                        }
                        decoded.append(contentsOf: images)
                    }
                    return (lane, decoded)
                }
            }
            var byLane: [Int: [ImageBuffer]] = [:]
            for try await (lane, decoded) in group { byLane[lane] = decoded }
            return byLane
        }
        let array = try await imageBlobs.performBlocking { () throws(TesseraError) -> [UInt8] in
            var stack = NumpyStack(rescale: rescale, stacked: true, expectedFrames: plan.reduce(0) { $0 + $1.frames })
            // Back in the slices' order: file i went to lane i % lanes, its frames in order.
            var cursors = [Int](repeating: 0, count: lanes)
            for position in plan.indices {
                let lane = position % lanes
                let lanesFrames = frames[lane] ?? []
                for _ in 0..<plan[position].frames where cursors[lane] < lanesFrames.count {
                    try stack.append(converted: lanesFrames[cursors[lane]])
                    cursors[lane] += 1
                }
            }
            return try stack.output(compress: compress)
        }
        return Self.binary(array, type: "application/octet-stream")
    }

    static func binary(_ bytes: [UInt8], type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
