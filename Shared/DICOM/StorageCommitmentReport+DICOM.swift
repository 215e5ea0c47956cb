import Model

extension StorageCommitmentReport {
    /// Reads the dataset of an N-EVENT-REPORT of the Storage Commitment Push Model (a DICOM file in memory), as
    /// Orthanc does: TransactionUID required; event 1 (all committed) needs ReferencedSOPSequence, event 2 (some
    /// failed) needs FailedSOPSequence, each failure with its FailureReason. `badFileFormat` otherwise.
    public init(eventReport bytes: [UInt8], eventType: UInt16, callingAET: String) throws(TesseraError) {
        guard eventType == 1 || eventType == 2 else {
            throw TesseraError(.notImplemented, details: "Unknown event for DICOM N-EVENT-REPORT SCP: \(eventType)")
        }
        let dataset = try DicomFile(bytes: bytes).dataset
        guard let transaction = dataset.string(DicomTag(0x0008, 0x1195)), !transaction.isEmpty else {
            throw TesseraError(.badFileFormat, details: "Missing mandatory tag in dataset: (0008,1195)")
        }
        func reference(_ item: DicomItem) throws(TesseraError) -> Reference {
            guard let sopClass = item.string(DicomTag(0x0008, 0x1150)), let sopInstance = item.string(DicomTag(0x0008, 0x1155)) else {
                throw TesseraError(.badFileFormat, details: "Missing Referenced SOP Class/Instance UID in storage commitment dataset")
            }
            return Reference(sopClassUID: sopClass, sopInstanceUID: sopInstance)
        }
        var succeeded: [Reference] = []
        if let items = dataset.sequence(DicomTag(0x0008, 0x1199)) {
            for item in items { succeeded.append(try reference(item)) }
        } else if eventType == 1 {
            throw TesseraError(.badFileFormat, details: "Missing mandatory tag in dataset: (0008,1199)")
        }
        var failures: [Failure] = []
        if eventType == 2 {
            guard let items = dataset.sequence(DicomTag(0x0008, 0x1198)) else {
                throw TesseraError(.badFileFormat, details: "Missing mandatory tag in dataset: (0008,1198)")
            }
            for item in items {
                guard let reason = item.integer(DicomTag(0x0008, 0x1197)).flatMap(UInt16.init(exactly:)) else {
                    throw TesseraError(.badFileFormat, details: "Missing Failure Reason (0008,1197) in storage commitment dataset")
                }
                failures.append(Failure(reference: try reference(item), reason: reason))
            }
        }
        self.init(transactionUID: transaction, remoteAET: callingAET, complete: true, succeeded: succeeded, failures: failures)
    }
}
