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
}
