import Foundation

extension JSONValue {
    /// Compact JSON text, keys sorted (what database columns store).
    public var compactText: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(self) else { return "null" }
        return String(decoding: data, as: UTF8.self)
    }

    /// Parses JSON text; `badJson` when it is not JSON.
    public static func parse(text: String) throws(TesseraError) -> JSONValue {
        try parse(Data(text.utf8))
    }
}
