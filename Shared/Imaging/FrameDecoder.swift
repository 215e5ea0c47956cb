import DICOM
import Model

/// Turns an uncompressed frame into an image as Orthanc's `DicomImageDecoder` does (1.10, with the fixes of later
/// versions noted), so that pixel values equal stock Orthanc's:
///
/// - The pixel format follows Orthanc's rules: greyscale 8-bit when BitsStored is 8, 16-bit (signed or not) and
///   32-bit by BitsAllocated, RGB 24/48-bit, palette colour through its lookup table. Native data is read as
///   Orthanc's fast path reads it (samples copied, shifted right for 8/16-bit greyscale with a high bit above
///   BitsStored), other layouts through its sample accessor (masked, sign-extended, clamped to the target type).
/// - Compressed data keeps the decoder's output (a JPEG decoder turns YBR into RGB).
///
/// Beyond Orthanc 1.10 (each also a difference from it): native YBR_FULL is converted to RGB (Orthanc refuses it);
/// BitsAllocated 16 with BitsStored 8 is read as 16-bit samples (Orthanc reads the bytes misaligned); RLE with
/// PlanarConfiguration 1 is interleaved and RLE YBR_FULL converted to RGB (as Orthanc 1.11.3 and 1.12.1); palette
/// lookup tables of any length and entry size, and multi-frame palette images (as Orthanc 1.12).
public enum FrameDecoder {
    /// The decoded image. Throws `unsupportedImage` for layouts Orthanc does not decode, `badFileFormat` when the
    /// pixel data is shorter than its attributes say.
    public static func decode(_ frame: RawFrame) throws(TesseraError) -> ImageBuffer {
        let photometric = frame.photometric.uppercased()
        let format = try pixelFormat(of: frame)
        let nativeYBR = isNativeYBR(frame)
        if photometric == "PALETTE COLOR", frame.samplesPerPixel == 1 {
            // Compressed palette data of other sample sizes gets a greyscale format: no table for it (as Orthanc).
            guard format.isColor else { throw unsupported("a PALETTE COLOR image of \(frame.bitsStored)-bit indexes") }
            return try PaletteLookup.apply(frame, format: format)
        }
        var image = frame.wasCompressed ? try decoded(frame, format: format) : try native(frame, format: format)
        let model = frame.colorModel.uppercased()
        if nativeYBR || (frame.wasCompressed && format == .rgb24 && model == "YBR_FULL") {
            YCbCr.convertToRGB(&image)
        }
        return image
    }

    /// The pixel format the frame decodes to, from its attributes alone; throws as ``decode(_:)`` for an image the
    /// decoder refuses.
    public static func pixelFormat(of frame: RawFrame) throws(TesseraError) -> PixelFormat {
        let photometric = frame.photometric.uppercased()
        guard frame.bitsStored <= frame.bitsAllocated, [1, 8, 16, 24, 32].contains(frame.bitsAllocated),
              frame.samplesPerPixel > 0, frame.bitsStored > 0,
              frame.highBit < frame.bitsAllocated, frame.highBit + 1 >= frame.bitsStored else {
            throw unsupported("BitsAllocated \(frame.bitsAllocated), BitsStored \(frame.bitsStored), HighBit \(frame.highBit)")
        }
        // Orthanc's sample accessor refuses 32 stored bits in native data (compressed data does not go through it).
        if !frame.wasCompressed, frame.bitsStored >= 32 {
            throw unsupported("native pixel data of 32 stored bits")
        }
        if frame.bitsStored == 1, frame.bitsAllocated != 1 || frame.columns % 8 != 0 {
            throw TesseraError(.badFileFormat, details: "a 1-bit image needs BitsAllocated 1 and a width multiple of 8")
        }
        guard let format = pixelFormat(frame, photometric: photometric,
                                       ignoringPhotometric: frame.wasCompressed || isNativeYBR(frame)) else {
            throw unsupported("\(photometric) with \(frame.samplesPerPixel) samples of \(frame.bitsStored) bits"
                + (frame.isSigned ? " (signed)" : ""))
        }
        return format
    }

    /// Native YBR_FULL 8-bit colour, which Tessera converts to RGB (Orthanc refuses it).
    static func isNativeYBR(_ frame: RawFrame) -> Bool {
        !frame.wasCompressed && frame.photometric.uppercased() == "YBR_FULL" && frame.samplesPerPixel == 3
            && frame.bitsStored == 8 && frame.bitsAllocated == 8 && !frame.isSigned
    }

    /// Orthanc's `DicomImageInformation::ExtractPixelFormat`, in its order.
    static func pixelFormat(_ frame: RawFrame, photometric: String, ignoringPhotometric: Bool) -> PixelFormat? {
        let channels = frame.samplesPerPixel, stored = frame.bitsStored, allocated = frame.bitsAllocated
        let signed = frame.isSigned
        if photometric == "PALETTE COLOR", channels == 1, !signed {
            if stored == 8 { return .rgb24 }
            if stored == 16 { return .rgb48 }
        }
        if ignoringPhotometric || photometric == "MONOCHROME1" || photometric == "MONOCHROME2" {
            if stored == 8, channels == 1, !signed { return .grayscale8 }
            if allocated == 16, channels == 1, !signed { return .grayscale16 }
            if allocated == 16, channels == 1, signed { return .signedGrayscale16 }
            if allocated == 32, channels == 1, !signed { return .grayscale32 }
            if stored == 1, channels == 1, !signed { return .grayscale8 }
        }
        if channels == 3, !signed, ignoringPhotometric || photometric == "RGB" {
            if stored == 8 { return .rgb24 }
            if stored == 16 { return .rgb48 }
        }
        return nil
    }

    static func unsupported(_ details: String) -> TesseraError {
        TesseraError(.unsupportedImage, details: "the decoder does not support this image: " + details)
    }

    /// A decoder's output: samples of BitsAllocated bits, interleaved unless the RLE data was planar.
    private static func decoded(_ frame: RawFrame, format: PixelFormat) throws(TesseraError) -> ImageBuffer {
        let width = frame.columns, height = frame.rows
        let size = width * height * format.bytesPerPixel
        let sampleBytes = max(1, frame.bitsAllocated / 8)
        if sampleBytes * frame.samplesPerPixel != format.bytesPerPixel {
            // BitsAllocated wider than the format (16 with BitsStored 8): take each sample's value.
            return try native(frame, format: format)
        }
        guard frame.bytes.count >= size else {
            throw TesseraError(.badFileFormat, details: "the decoded frame is shorter than Rows × Columns")
        }
        var image = ImageBuffer(format: format, width: width, height: height, pixels: Array(frame.bytes.prefix(size)))
        if frame.isPlanar, format == .rgb24 {
            let plane = width * height
            var interleaved = [UInt8](repeating: 0, count: size)
            for index in 0..<plane {
                interleaved[3 * index] = image.pixels[index]
                interleaved[3 * index + 1] = image.pixels[plane + index]
                interleaved[3 * index + 2] = image.pixels[2 * plane + index]
            }
            image.pixels = interleaved
        }
        return image
    }

    /// Native pixel data, as Orthanc's `DecodeUncompressedImage` reads it.
    private static func native(_ frame: RawFrame, format: PixelFormat) throws(TesseraError) -> ImageBuffer {
        let width = frame.columns, height = frame.rows, channels = frame.samplesPerPixel
        let shift = frame.highBit + 1 - frame.bitsStored
        guard shift >= 0 else {
            throw unsupported("HighBit \(frame.highBit) below BitsStored \(frame.bitsStored)")
        }
        let sampleBytes = frame.bitsAllocated / 8
        let frameSize = frame.bitsStored == 1 ? width * height / 8 : width * height * sampleBytes * channels
        guard frame.bytes.count >= frameSize else {
            throw TesseraError(.badFileFormat, details: "the pixel data is shorter than its attributes say")
        }
        let size = width * height * format.bytesPerPixel
        // Orthanc's fast path: samples as stored, then a logical shift for 8/16-bit greyscale.
        if !frame.isPlanar, frame.bitsStored != 1, sampleBytes * channels == format.bytesPerPixel,
           shift == 0 || format == .grayscale8 || format == .grayscale16 {
            var image = ImageBuffer(format: format, width: width, height: height,
                                    pixels: frame.bytes.count == size ? frame.bytes : Array(frame.bytes.prefix(size)))
            if shift > 0 { shiftRight(&image, by: shift) }
            return image
        }
        // Orthanc's slow path: one sample at a time, masked, sign-extended and clamped to the target's range.
        let (minimum, maximum): (Int32, Int32)
        switch format {
        case .grayscale8, .rgb24: (minimum, maximum) = (0, 255)
        case .grayscale16: (minimum, maximum) = (0, 65535)
        case .signedGrayscale16: (minimum, maximum) = (-32768, 32767)
        default: throw unsupported("\(format) pixels with this layout")
        }
        let accessor = SampleAccessor(frame: frame, shift: shift)
        var pixels = [UInt8](repeating: 0, count: size)
        let targetBytes = format == .grayscale16 || format == .signedGrayscale16 ? 2 : 1
        let outChannels = format.channels
        frame.bytes.withUnsafeBufferPointer { source in
            var offset = 0
            for y in 0..<height {
                for x in 0..<width {
                    for channel in 0..<outChannels {
                        let value = min(max(accessor.value(source, x: x, y: y, channel: channel), minimum), maximum)
                        let bits = UInt16(truncatingIfNeeded: value)
                        pixels[offset] = UInt8(bits & 0xFF)
                        if targetBytes == 2 { pixels[offset + 1] = UInt8(bits >> 8) }
                        offset += targetBytes
                    }
                }
            }
        }
        return ImageBuffer(format: format, width: width, height: height, pixels: pixels)
    }

    private static func shiftRight(_ image: inout ImageBuffer, by shift: Int) {
        if image.format == .grayscale8 {
            for index in image.pixels.indices { image.pixels[index] >>= UInt8(shift) }
        } else {
            var index = 0
            while index + 1 < image.pixels.count {
                let value = (UInt16(image.pixels[index]) | UInt16(image.pixels[index + 1]) << 8) >> UInt16(shift)
                image.pixels[index] = UInt8(value & 0xFF)
                image.pixels[index + 1] = UInt8(value >> 8)
                index += 2
            }
        }
    }
}
