/// A storage commitment transaction we asked a peer for (Orthanc's `/storage-commitment/{id}`): pending until the
/// peer's report (N-EVENT-REPORT) arrives, then the instances it committed to and those it did not.
public struct StorageCommitmentReport: Sendable, Equatable {
    /// An instance, by its SOP class and instance UIDs.
    public struct Reference: Sendable, Hashable {
        public var sopClassUID: String
        public var sopInstanceUID: String

        public init(sopClassUID: String, sopInstanceUID: String) {
            self.sopClassUID = sopClassUID
            self.sopInstanceUID = sopInstanceUID
        }
    }

    /// An instance the peer did not commit to, with its Failure Reason (0008,1197).
    public struct Failure: Sendable, Hashable {
        public var reference: Reference
        public var reason: UInt16

        public init(reference: Reference, reason: UInt16) {
            self.reference = reference
            self.reason = reason
        }
    }

    public enum Status: String, Sendable {
        case pending = "Pending"
        case success = "Success"
        case failure = "Failure"
    }

    public var transactionUID: String
    /// The peer's AE title (the one asked while pending, the one that reported once complete).
    public var remoteAET: String
    /// Whether the report arrived.
    public var complete: Bool
    public var succeeded: [Reference]
    public var failures: [Failure]

    /// A transaction waiting for its report.
    public init(pending transactionUID: String, remoteAET: String) {
        self.init(transactionUID: transactionUID, remoteAET: remoteAET, complete: false, succeeded: [], failures: [])
    }

    public init(transactionUID: String, remoteAET: String, complete: Bool, succeeded: [Reference], failures: [Failure]) {
        self.transactionUID = transactionUID
        self.remoteAET = remoteAET
        self.complete = complete
        self.succeeded = succeeded
        self.failures = failures
    }

    /// Orthanc's rule: pending until complete, then Success when nothing failed.
    public var status: Status {
        guard complete else { return .pending }
        return failures.isEmpty ? .success : .failure
    }

    /// Orthanc's `GET /storage-commitment/{id}`: `RemoteAET`, `Status`, and once complete `Success` and `Failures`
    /// (with `FailureReason` and its description).
    public var json: JSONValue {
        var members: [String: JSONValue] = ["RemoteAET": .string(remoteAET), "Status": .string(status.rawValue)]
        if complete {
            members["Success"] = .array(succeeded.map(\.json))
            members["Failures"] = .array(failures.map { failure in
                guard case .object(var object) = failure.reference.json else { return .null }
                object["FailureReason"] = .number(Double(failure.reason))
                object["Description"] = .string(Self.describe(failure.reason))
                return .object(object)
            })
        }
        return .object(members)
    }

    /// What Tessera keeps on the shared storage: the transaction, the peer, and the lists as Orthanc shows them.
    public var storedJSON: JSONValue {
        json.setting("TransactionUID", .string(transactionUID)).setting("Complete", .bool(complete))
    }

    /// Reads ``storedJSON``; nil when it is not one.
    public init?(stored json: JSONValue) {
        guard let transactionUID = json["TransactionUID"]?.stringValue, let remoteAET = json["RemoteAET"]?.stringValue,
              case .bool(let complete)? = json["Complete"] else { return nil }
        func reference(_ item: JSONValue) -> Reference? {
            guard let sopClass = item["SOPClassUID"]?.stringValue, let sopInstance = item["SOPInstanceUID"]?.stringValue else { return nil }
            return Reference(sopClassUID: sopClass, sopInstanceUID: sopInstance)
        }
        var succeeded: [Reference] = []
        if case .array(let items)? = json["Success"] { succeeded = items.compactMap(reference) }
        var failures: [Failure] = []
        if case .array(let items)? = json["Failures"] {
            failures = items.compactMap { item in
                guard let found = reference(item), let reason = item["FailureReason"]?.intValue.flatMap(UInt16.init(exactly:)) else { return nil }
                return Failure(reference: found, reason: reason)
            }
        }
        self.init(transactionUID: transactionUID, remoteAET: remoteAET, complete: complete, succeeded: succeeded, failures: failures)
    }

    /// Orthanc's descriptions of the Failure Reasons (PS3.3 C.14.1.1).
    public static func describe(_ reason: UInt16) -> String {
        switch reason {
        case 0x0110: return "A general failure in processing the operation was encountered"
        case 0x0112: return "One or more of the elements in the Referenced SOP Instance Sequence was not available"
        case 0x0213: return "The SCP does not currently have enough resources to store the requested SOP Instance(s)"
        case 0x0122: return "Storage Commitment has been requested for a SOP Instance with a SOP Class that is not supported by the SCP"
        case 0x0119: return "The SOP Class of an element in the Referenced SOP Instance Sequence did not correspond to the SOP class registered for this SOP Instance at the SCP"
        case 0x0131: return "The Transaction UID of the Storage Commitment Request is already in use"
        default: return "Unknown failure reason"
        }
    }

    /// A new transaction UID, as Orthanc makes them: `2.25.` and a random UUID as a decimal number.
    public static func newTransactionUID() -> String {
        var high = UInt64.random(in: 0...UInt64.max), low = UInt64.random(in: 0...UInt64.max)
        // 128-bit to decimal by repeated division by 10^19.
        var digits: [String] = []
        let base: UInt64 = 10_000_000_000_000_000_000
        repeat {
            let (q1, r1) = high.quotientAndRemainder(dividingBy: base)
            let (q0, r0) = base.dividingFullWidth((r1, low))
            high = q1
            low = q0
            digits.append(String(r0))
        } while high != 0 || low != 0
        var text = digits.removeLast()
        for chunk in digits.reversed() { text += String(repeating: "0", count: 19 - chunk.count) + chunk }
        return "2.25." + text
    }

    /// Whether `text` can be a transaction UID (digits and dots, at most 64 characters): it also names a file.
    public static func isValidUID(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 64 && text.utf8.allSatisfy { $0 == UInt8(ascii: ".") || (48...57).contains($0) }
            && text.first != "." && text.last != "."
    }
}

extension StorageCommitmentReport.Reference {
    var json: JSONValue { .object(["SOPClassUID": .string(sopClassUID), "SOPInstanceUID": .string(sopInstanceUID)]) }
}
