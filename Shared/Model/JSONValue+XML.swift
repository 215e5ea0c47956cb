import Foundation

extension JSONValue {
    /// Orthanc's XML form of a JSON answer (`Toolbox::JsonToXml`, what `Accept: application/xml` gets): a `root`
    /// element, object members in name order, array items as `item` elements, null as `null`, numbers as integers when
    /// whole (else as a float's 9 significant digits), two-space indentation, empty elements as `<name />`, text
    /// escaped as pugixml escapes it.
    public var orthancXML: String {
        var text = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
        Self.element("root", self, depth: 0, into: &text)
        return text
    }

    private static func element(_ name: String, _ value: JSONValue, depth: Int, into text: inout String) {
        let indent = String(repeating: "  ", count: depth)
        let children: [(String, JSONValue)]
        switch value {
        case .object(let members): children = members.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        case .array(let items): children = items.map { ("item", $0) }
        default:
            text += "\(indent)<\(name)>\(escaped(scalar(value)))</\(name)>\n"
            return
        }
        if children.isEmpty {
            text += "\(indent)<\(name) />\n"
            return
        }
        text += "\(indent)<\(name)>\n"
        for (childName, child) in children { element(childName, child, depth: depth + 1, into: &text) }
        text += "\(indent)</\(name)>\n"
    }

    private static func scalar(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let flag): return flag ? "true" : "false"
        case .string(let text): return text
        case .number(let number):
            if number.rounded() == number, abs(number) < 1e18 { return String(Int64(number)) }
            return String(format: "%.9g", Float(number))
        default: return ""
        }
    }

    /// pugixml's escaping of text: `&`, `<`, `>`, and control characters as numeric references.
    private static func escaped(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            default:
                if scalar.value < 32, scalar != "\t", scalar != "\n", scalar != "\r" {
                    result += "&#\(scalar.value);"
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result
    }
}
