import Foundation

/// Orthanc's names of character encodings (`DefaultEncoding`) and the SpecificCharacterSet value each writes.
public enum DicomEncoding {
    static let characterSets: [String: String] = [
        "Ascii": "ISO_IR 6", "Utf8": "ISO_IR 192", "Latin1": "ISO_IR 100", "Latin2": "ISO_IR 101",
        "Latin3": "ISO_IR 109", "Latin4": "ISO_IR 110", "Latin5": "ISO_IR 148", "Cyrillic": "ISO_IR 144",
        "Windows1251": "", "Arabic": "ISO_IR 127", "Greek": "ISO_IR 126", "Hebrew": "ISO_IR 138", "Thai": "ISO_IR 166",
        "Japanese": "ISO_IR 13", "Chinese": "GB18030", "Korean": "ISO 2022 IR 149", "JapaneseKanji": "ISO 2022 IR 87",
        "SimplifiedChinese": "ISO 2022 IR 58",
    ]

    /// The SpecificCharacterSet value of an Orthanc encoding name (empty for Windows1251, which has none); nil when
    /// the name is unknown.
    public static func specificCharacterSet(of encoding: String) -> String? {
        characterSets[encoding]
    }

    /// The SpecificCharacterSet Orthanc writes for a value it accepts (its `GetDicomEncoding`, then `SetEncoding`):
    /// `ISO 2022 IR 100` and `ISO_IR 100` both write `ISO_IR 100`; nil for a value Orthanc does not know.
    public static func canonicalCharacterSet(_ value: String) -> String? {
        let term = value.trimmingCharacters(in: .whitespaces)
        if term == "ISO_IR 6" || term.isEmpty { return "ISO_IR 6" }
        if let known = characterSets.values.first(where: { !$0.isEmpty && $0 == term }) { return known }
        let aliases: [String: String] = [
            "ISO 2022 IR 6": "ISO_IR 6", "ISO 2022 IR 100": "ISO_IR 100", "ISO 2022 IR 101": "ISO_IR 101",
            "ISO 2022 IR 109": "ISO_IR 109", "ISO 2022 IR 110": "ISO_IR 110", "ISO 2022 IR 148": "ISO_IR 148",
            "ISO 2022 IR 144": "ISO_IR 144", "ISO 2022 IR 127": "ISO_IR 127", "ISO 2022 IR 126": "ISO_IR 126",
            "ISO 2022 IR 138": "ISO_IR 138", "ISO 2022 IR 166": "ISO_IR 166", "ISO 2022 IR 13": "ISO_IR 13",
            "ISO 2022 IR 159": "ISO 2022 IR 87", "GBK": "GB18030",
        ]
        return aliases[term]
    }
}
