/// Folder and file names inside archives, as Orthanc 1.10 builds them (`ArchiveJob`): folders
/// `PatientID PatientName/AccessionNumber StudyDescription/Modality SeriesDescription`, files
/// `<first two letters of Modality><counter>.dcm` padded to eight characters. Names never contain a path: only letters,
/// digits, `.`, `_` and spaces, and never a name made of dots alone.
public enum ArchiveNaming {
    /// A folder name from its raw text (`"ID NAME"`): non-ASCII and control characters dropped, then
    /// `Unknown <Level>` when nothing is left, then `^` as a space, only letters, digits, `.`, `_` and single spaces.
    /// (The `Unknown` test comes before the second clean-up, so `"^^^^"` gives an empty name, as in Orthanc.)
    public static func folder(_ raw: String, unknown: String) -> String {
        let ascii = String(decoding: raw.utf8.filter { $0 >= 32 && $0 < 127 }, as: UTF8.self)
            .trimmingCharacters(in: " ")
        let named = ascii.isEmpty ? unknown : ascii
        var result = ""
        var pendingSpace = false
        for byte in named.utf8 {
            let character = byte == UInt8(ascii: "^") ? UInt8(ascii: " ") : byte
            if character == UInt8(ascii: " ") || character == UInt8(ascii: "\t") {
                pendingSpace = true
            } else if isKept(character) {
                if pendingSpace, !result.isEmpty { result.append(" ") }
                pendingSpace = false
                result.append(Character(Unicode.Scalar(character)))
            }
        }
        // A name of dots only ("." or "..") would climb out of the archive's folders when extracted.
        if !result.isEmpty && result.allSatisfy({ $0 == "." }) {
            return String(repeating: "_", count: result.count)
        }
        return result
    }

    /// The file name of the `counter`-th instance of a series whose Modality is `modality`.
    public static func file(modality: String, counter: Int) -> String {
        // Letters and digits only: a Modality of "../" must not put a path into the name.
        let prefix = String(modality.uppercased().filter { $0.isASCII && ($0.isLetter || $0.isNumber) }.prefix(2))
        let digits = String(counter)
        let width = max(digits.count, 8 - prefix.count)
        return prefix + String(repeating: "0", count: width - digits.count) + digits + ".dcm"
    }

    /// Makes sibling names unique as Orthanc does: the first keeps its name, later ones get `-2`, `-3`, ...
    public struct Siblings: Sendable {
        private var used: [String: Int] = [:]

        public init() {}

        public mutating func unique(_ name: String) -> String {
            guard let count = used[name] else {
                used[name] = 1
                return name
            }
            var next = count + 1
            while used["\(name)-\(next)"] != nil { next += 1 }
            used[name] = next
            used["\(name)-\(next)"] = 1
            return "\(name)-\(next)"
        }
    }

    private static func isKept(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_")
    }
}

extension String {
    fileprivate func trimmingCharacters(in character: Character) -> String {
        var text = Substring(self)
        while text.first == character { text = text.dropFirst() }
        while text.last == character { text = text.dropLast() }
        return String(text)
    }
}
