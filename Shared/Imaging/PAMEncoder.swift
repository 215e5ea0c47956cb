import Model

/// Writes Netpbm PAM files (`image/x-portable-arbitrarymap`) as Orthanc's PamWriter: a text header, then the rows
/// with 16-bit samples big-endian.
public enum PAMEncoder {
    public static func encode(_ image: ImageBuffer) throws(TesseraError) -> [UInt8] {
        let (depth, maxValue, tupleType): (Int, Int, String)
        switch image.format {
        case .grayscale8: (depth, maxValue, tupleType) = (1, 255, "GRAYSCALE")
        case .grayscale16, .signedGrayscale16: (depth, maxValue, tupleType) = (1, 65535, "GRAYSCALE")
        case .rgb24: (depth, maxValue, tupleType) = (3, 255, "RGB")
        case .rgb48: (depth, maxValue, tupleType) = (3, 65535, "RGB")
        case .grayscale32, .float32:
            throw TesseraError(.notImplemented, details: "PAM cannot hold \(image.format) pixels")
        }
        let header = "P7\nWIDTH \(image.width)\nHEIGHT \(image.height)\nDEPTH \(depth)\nMAXVAL \(maxValue)\nTUPLTYPE \(tupleType)\nENDHDR\n"
        var output = Array(header.utf8)
        if maxValue == 255 {
            output += image.pixels
        } else {
            output.reserveCapacity(output.count + image.pixels.count)
            var index = 0
            while index + 1 < image.pixels.count {
                output.append(image.pixels[index + 1])
                output.append(image.pixels[index])
                index += 2
            }
        }
        return output
    }
}
