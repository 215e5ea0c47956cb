import DICOM
import Foundation
import Hummingbird
import Index
import Model
import Modification
import Storage

/// `POST /instances/{id}/modify`: the instance's file with Replace, Remove, Keep, RemovePrivateTags and Force applied
/// as Orthanc applies them (a new SOP Instance UID unless kept, new parents' UIDs when their identifiers change),
/// answered as a DICOM file; nothing is stored.
struct ModifyRoutes {
    let instances: InstanceQueries
    let blobs: BlobStore
    let modifier: InstanceModifier
    var maximumBodySize = 16 << 20

    func add(to router: Router<APIRequestContext>) {
        router.post("/instances/{id}/modify") { request, context in
            var request = request
            guard let id = context.publicID, let record = try await instances.instance(id) else {
                throw TesseraError(.unknownResource)
            }
            let buffer = try await request.collectBody(upTo: maximumBodySize)
            guard let body = try? JSONValue.parse(Data(buffer: buffer)) else {
                throw TesseraError(.badFileFormat, details: "The body of a modification must be a JSON object")
            }
            let modification = try ModifyRequest.parse(body)
            let modifier = self.modifier
            let bytes = try await blobs.withBlob(record.fileUUID) { path throws(TesseraError) in
                try modifier.modify(try DicomFile(path: path, maxReadLength: .max), with: modification)
            }
            return Response(status: .ok, headers: [.contentType: "application/dicom"],
                            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
        }
    }
}
