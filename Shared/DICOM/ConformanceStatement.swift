import CDICOM
import Foundation
import Model

/// Tessera's DICOM conformance statement (`GET /tools/dicom-conformance`, plain text), laid out as Orthanc's: one
/// section per service and role listing the SOP classes with DCMTK's symbolic names, then the transfer syntaxes.
/// Written from what the gateway and the workers negotiate (the storage classes are DCMTK's list, which the C-STORE
/// SCP accepts), not copied from Orthanc's.
public enum ConformanceStatement {
    static let verification = ["1.2.840.10008.1.1"]
    static let find = ["1.2.840.10008.5.1.4.1.2.1.1", "1.2.840.10008.5.1.4.1.2.2.1"]
    static let move = ["1.2.840.10008.5.1.4.1.2.1.2", "1.2.840.10008.5.1.4.1.2.2.2"]
    static let get = ["1.2.840.10008.5.1.4.1.2.1.3", "1.2.840.10008.5.1.4.1.2.2.3"]
    static let commitment = ["1.2.840.10008.1.20.1"]

    /// The statement; `transferSyntaxes`: the syntaxes the C-STORE SCP accepts by default, in order of preference.
    public static func text(transferSyntaxes: [String] = TransferSyntaxPolicy.known.map(\.uid)) -> String {
        var storage: [String] = []
        for index in 0..<Int(cdicom_storage_sop_class_count()) {
            if let uid = cdicom_storage_sop_class(Int32(index)) { storage.append(String(cString: uid)) }
        }
        // Standard classes alphabetically, then the retired and draft ones, as Orthanc's statement lists them.
        let named = Set(storage).map { (name(of: $0), $0) }
        func block(_ prefix: String?) -> [(String, String)] {
            named.filter { entry in
                prefix.map { entry.0.hasPrefix($0) } ?? !(entry.0.hasPrefix("RETIRED_") || entry.0.hasPrefix("DRAFT_"))
            }.sorted { $0.0.lowercased() < $1.0.lowercased() }
        }
        var text = title("DICOM Conformance Statement of Tessera", rule: "=")
        text += section("Echo SCP Conformance", "Tessera supports the following SOP Classes as an SCP for C-Echo:", [verification.map(entry)])
        text += section("Store SCP Conformance", "Tessera supports the following SOP Classes as an SCP for C-Store:",
                        [block(nil), block("RETIRED_"), block("DRAFT_")].filter { !$0.isEmpty })
        text += section("Find SCP Conformance", "Tessera supports the following SOP Classes as an SCP for C-Find:", [find.map(entry)])
        text += section("Move SCP Conformance", "Tessera supports the following SOP Classes as an SCP for C-Move:", [move.map(entry)])
        text += section("Get SCP Conformance", "Tessera supports the following SOP Classes as an SCP for C-Get:", [get.map(entry)])
        text += section("Storage Commitment Conformance",
                        "Tessera supports the following SOP Class as an SCU: it sends N-ACTION requests and\n"
                        + "receives their N-EVENT-REPORT answers, also on associations the peer opens:", [commitment.map(entry)])
        text += section("Echo SCU Conformance", "Tessera supports the following SOP Classes as an SCU for C-Echo:", [verification.map(entry)])
        text += title("Store SCU Conformance", rule: "-")
        text += "Every SOP Class listed in the \"Store SCP Conformance\" section above\nis available as an SCU for C-Store.\n\n\n"
        text += section("Find SCU Conformance", "Tessera supports the following SOP Classes as an SCU for C-Find:", [find.map(entry)])
        text += section("Move SCU Conformance", "Tessera supports the following SOP Classes as an SCU for C-Move:", [move.map(entry)])
        text += section("Get SCU Conformance", "Tessera supports the following SOP Classes as an SCU for C-Get:", [get.map(entry)])
        text += section("Transfer Syntaxes",
                        "Tessera accepts presentation contexts for every SOP Class above in any of\n"
                        + "the following transfer syntaxes (the first one proposed in this order wins):",
                        [transferSyntaxes.map(entry)])
        text += title("Implementation notes", rule: "-")
        text += """
            "AcceptedTransferSyntaxes" and the "*TransferSyntaxAccepted" options of the
            configuration narrow the transfer syntaxes; "UnknownSopClassAccepted" makes
            the C-STORE SCP accept SOP Classes DCMTK does not know. Verification, query
            and retrieve are negotiated in the uncompressed transfer syntaxes.
            Modality worklists (C-FIND) are not supported.

            """
        return text
    }

    static func name(of uid: String) -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard cdicom_uid_name(uid, &buffer, buffer.count) != 0 else { return uid }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func entry(_ uid: String) -> (String, String) { (name(of: uid), uid) }

    static func title(_ text: String, rule: Character) -> String {
        let line = String(repeating: rule, count: text.count)
        return "\(line)\n\(text)\n\(line)\n\n"
    }

    /// A titled list of "name | UID" rows, blocks separated by a blank line, names padded to the widest.
    static func section(_ heading: String, _ sentence: String, _ blocks: [[(String, String)]]) -> String {
        let width = blocks.flatMap { $0.map(\.0.count) }.max() ?? 0
        let rows = blocks.map { block in
            block.map { "  " + $0.0.padding(toLength: width, withPad: " ", startingAt: 0) + " | " + $0.1 }.joined(separator: "\n")
        }
        return title(heading, rule: "-") + sentence + "\n\n" + rows.joined(separator: "\n\n") + "\n\n\n"
    }
}
