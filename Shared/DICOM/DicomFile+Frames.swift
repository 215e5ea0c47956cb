import CDICOM
import Foundation
import Model

extension DicomFile {
    /// How many frames the file really holds: NumberOfFrames (1 when absent or not a positive number), but never more
    /// than the pixel data can contain, so that a forged NumberOfFrames (2^31 - 1 on a one-frame image) cannot make a
    /// route list billions of frames. Native pixel data holds at most its length divided by one frame's size;
    /// encapsulated pixel data at most one frame per fragment (the basic offset table aside). Without pixel data: 1.
    public var frameCount: Int {
        let dataset = self.dataset
        let declared = dataset.string(DicomTag(0x0028, 0x0008)).flatMap { Int64($0.trimmingCharacters(in: .whitespaces)) } ?? 1
        var frames = max(1, declared)
        var length: Int64 = 0
        var fragments = -1
        guard cdicom_file_pixel_data(handle, &length, &fragments) != 0 else { return 1 }
        if fragments >= 0 {
            frames = min(frames, Int64(max(1, fragments - 1)))
        } else if let frameSize = Self.frameSize(dataset), frameSize > 0 {
            frames = min(frames, max(1, length / frameSize))
        }
        return Int(clamping: frames)
    }

    /// Bytes of one native frame (Rows × Columns × SamplesPerPixel × BitsAllocated / 8), checked for overflow.
    private static func frameSize(_ dataset: DicomItem) -> Int64? {
        guard let rows = dataset.integer(DicomTag(0x0028, 0x0010)), let columns = dataset.integer(DicomTag(0x0028, 0x0011)),
              let bits = dataset.integer(DicomTag(0x0028, 0x0100)) else { return nil }
        let samples = dataset.integer(DicomTag(0x0028, 0x0002)) ?? 1
        var size: Int64 = 1
        for factor in [rows, columns, samples, bits] {
            guard factor > 0 else { return nil }
            let (product, overflow) = size.multipliedReportingOverflow(by: factor)
            if overflow { return nil }
            size = product
        }
        return max(1, size / 8)
    }
}
