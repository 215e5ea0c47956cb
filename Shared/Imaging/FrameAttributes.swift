import DICOM
import Foundation
import Model

/// What rendering and rescaling a frame needs from its instance, read as Orthanc's `ParsedDicomFile` does.
public struct FrameAttributes: Sendable {
    /// PhotometricInterpretation, exactly as stored (spaces trimmed).
    public var photometric: String
    /// Modality LUT: stored value × slope + intercept.
    public var rescaleIntercept: Double
    public var rescaleSlope: Double
    /// The default VOI window.
    public var windowCenter: Double
    public var windowWidth: Double

    public init(photometric: String, rescaleIntercept: Double, rescaleSlope: Double, windowCenter: Double, windowWidth: Double) {
        self.photometric = photometric
        self.rescaleIntercept = rescaleIntercept
        self.rescaleSlope = rescaleSlope
        self.windowCenter = windowCenter
        self.windowWidth = windowWidth
    }

    /// Reads frame `frame`'s attributes: RescaleIntercept and RescaleSlope at the top level (both present and
    /// single numbers), else in the frame's PixelValueTransformationSequence, else (0, 1), and (0, 1) for RT Dose;
    /// the first WindowCenter and WindowWidth at the top level, else in the frame's FrameVOILUTSequence, else the
    /// whole range of BitsStored.
    public init(_ file: DicomFile, frame: Int) {
        let dataset = file.dataset
        photometric = dataset.string(DicomTag(0x0028, 0x0004))?.trimmingCharacters(in: .whitespaces) ?? ""
        let perFrame = dataset.sequence(DicomTag(0x5200, 0x9230)).flatMap { frame < $0.count ? $0[frame] : nil }
        func pair(_ item: DicomItem?, _ first: DicomTag, _ second: DicomTag, firstValue: Bool) -> (Double, Double)? {
            guard let item, let a = item.string(first), let b = item.string(second),
                  let x = Self.number(a, firstValue: firstValue), let y = Self.number(b, firstValue: firstValue) else { return nil }
            return (x, y)
        }
        let intercept = DicomTag(0x0028, 0x1052), slope = DicomTag(0x0028, 0x1053)
        if dataset.string(DicomTag(0x0008, 0x0016))?.trimmingCharacters(in: .whitespaces) == "1.2.840.10008.5.1.4.1.1.481.2" {
            (rescaleIntercept, rescaleSlope) = (0, 1)
        } else if let found = pair(dataset, intercept, slope, firstValue: false)
                    ?? pair(perFrame?.sequence(DicomTag(0x0028, 0x9145))?.first, intercept, slope, firstValue: false) {
            (rescaleIntercept, rescaleSlope) = found
        } else {
            (rescaleIntercept, rescaleSlope) = (0, 1)
        }
        let center = DicomTag(0x0028, 0x1050), width = DicomTag(0x0028, 0x1051)
        if let found = pair(dataset, center, width, firstValue: true)
            ?? pair(perFrame?.sequence(DicomTag(0x0028, 0x9132))?.first, center, width, firstValue: true) {
            (windowCenter, windowWidth) = found
        } else {
            var bits = Int(dataset.integer(DicomTag(0x0028, 0x0101)) ?? 8)
            if bits <= 0 || bits > 62 { bits = 8 }
            windowWidth = Double(1 << bits)
            windowCenter = windowWidth / 2
        }
    }

    /// The value as a number: the whole text, or its first backslash-separated part with `firstValue`.
    private static func number(_ text: String, firstValue: Bool) -> Double? {
        var value = text
        if firstValue, let first = text.split(separator: "\\", omittingEmptySubsequences: false).first { value = String(first) }
        value = value.trimmingCharacters(in: .whitespaces)
        guard !value.isEmpty, value.allSatisfy({ $0.isASCII && ($0.isNumber || "+-.eE".contains($0)) }) else { return nil }
        return Double(value)
    }

    /// Whether the frame is shown inverted (MONOCHROME1).
    public var isInverted: Bool { photometric.uppercased() == "MONOCHROME1" }
}
