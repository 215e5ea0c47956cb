import DICOM
@testable import Imaging
import Model
import Testing

@Suite("Decoded images: Orthanc's arithmetic")
struct ImagingTests {
    static func gray16(_ values: [UInt16], width: Int, signed: Bool = false) -> ImageBuffer {
        ImageBuffer(format: signed ? .signedGrayscale16 : .grayscale16, width: width, height: values.count / width,
                    pixels: values.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] })
    }

    static func frame(_ bytes: [UInt8], rows: Int, columns: Int, samples: Int = 1, allocated: Int, stored: Int, high: Int,
                      signed: Bool = false, planar: Bool = false, photometric: String = "MONOCHROME2") -> RawFrame {
        RawFrame(rows: rows, columns: columns, samplesPerPixel: samples, bitsAllocated: allocated, bitsStored: stored, highBit: high,
                 isSigned: signed, isPlanar: planar, photometric: photometric, colorModel: photometric, frameCount: 1,
                 wasCompressed: false, bytes: bytes)
    }

    @Test("Preview stretches min..max to 0..255 in single precision, rounding half away from zero; a flat image is black")
    func preview() throws {
        let image = Self.gray16([100, 4195, 2147, 100], width: 2)
        let preview = try ImageExtractionMode.preview.apply(to: image, invert: false)
        #expect(preview.format == .grayscale8 && preview.pixels == [0, 255, 127, 0])
        #expect(try ImageExtractionMode.preview.apply(to: image, invert: true).pixels == [255, 0, 128, 255])
        #expect(try ImageExtractionMode.preview.apply(to: Self.gray16([7, 7], width: 2), invert: false).pixels == [0, 0])
    }

    @Test("image-uint8/uint16/int16 clamp to the target's range; colour images are refused")
    func truncation() throws {
        let signed = Self.gray16([UInt16(bitPattern: -5), 300], width: 2, signed: true)
        #expect(try ImageExtractionMode.uint8.apply(to: signed, invert: false).pixels == [0, 255])
        #expect(try ImageExtractionMode.uint16.apply(to: signed, invert: false).pixels == [0, 0, 44, 1])
        let wide = Self.gray16([40000], width: 1)
        #expect(try ImageExtractionMode.int16.apply(to: wide, invert: false).pixels == [0xFF, 0x7F])
        let rgb = ImageBuffer(format: .rgb24, width: 1, height: 1, pixels: [1, 2, 3])
        #expect(throws: TesseraError.self) { try ImageExtractionMode.uint8.apply(to: rgb, invert: false) }
        #expect(try ImageExtractionMode.preview.apply(to: rgb, invert: false) == rgb)
    }

    @Test("Rendered: floor(255·slope/ww·(x + (intercept − wc + ww/2)/slope)), clamped; MONOCHROME1 inverted after")
    func rendered() throws {
        let image = Self.gray16([1064, 0, 3000], width: 3, signed: true)
        var attributes = FrameAttributes(photometric: "MONOCHROME2", rescaleIntercept: -1024, rescaleSlope: 1, windowCenter: 40, windowWidth: 400)
        #expect(try ImageRenderer.render(image, attributes: attributes, parameters: .init()).pixels == [127, 0, 255])
        attributes.photometric = "MONOCHROME1"
        #expect(try ImageRenderer.render(image, attributes: attributes, parameters: .init()).pixels == [128, 255, 0])
        let resized = try ImageRenderer.render(image, attributes: attributes, parameters: .init(width: 6))
        #expect(resized.width == 6 && resized.height == 2)
    }

    @Test("Native samples: fast path keeps bits above BitsStored, signed data with a high-bit shift is sign-extended")
    func samples() throws {
        // Unsigned 12-bit with garbage in the top nibble: copied as is (Orthanc's fast path).
        let garbage = try FrameDecoder.decode(Self.frame([0x34, 0xF2], rows: 1, columns: 1, allocated: 16, stored: 12, high: 11))
        #expect(garbage.pixels == [0x34, 0xF2])
        // Signed 12-bit stored in the high bits (HighBit 15): shifted, masked, sign-extended.
        let minusOne = UInt16(bitPattern: -1 << 4)
        let shifted = try FrameDecoder.decode(Self.frame([UInt8(minusOne & 0xFF), UInt8(minusOne >> 8)], rows: 1, columns: 1,
                                                         allocated: 16, stored: 12, high: 15, signed: true))
        #expect(shifted.format == .signedGrayscale16 && shifted.pixels == [0xFF, 0xFF])
        // Planar RGB becomes interleaved.
        let planar = try FrameDecoder.decode(Self.frame([1, 2, 10, 20, 100, 200], rows: 1, columns: 2, samples: 3, allocated: 8, stored: 8,
                                                        high: 7, planar: true, photometric: "RGB"))
        #expect(planar.pixels == [1, 10, 100, 2, 20, 200])
        // What Orthanc does not decode: signed 8-bit, 32 stored bits in native data.
        #expect(throws: TesseraError.self) { try FrameDecoder.decode(Self.frame([1], rows: 1, columns: 1, allocated: 8, stored: 8, high: 7, signed: true)) }
        #expect(throws: TesseraError.self) { try FrameDecoder.decode(Self.frame([1, 0, 0, 0], rows: 1, columns: 1, allocated: 32, stored: 32, high: 31)) }
        // Pixel data shorter than the attributes say.
        #expect(throws: TesseraError.self) { try FrameDecoder.decode(Self.frame([1], rows: 2, columns: 2, allocated: 8, stored: 8, high: 7)) }
    }

    @Test("Accept negotiation: exact beats image/* beats */*, then quality; nothing acceptable is nil")
    func negotiation() throws {
        #expect(try ImageEncoding.negotiate(accept: nil) == .png)
        #expect(try ImageEncoding.negotiate(accept: "*/*") == .png)
        #expect(try ImageEncoding.negotiate(accept: "image/jpeg, image/png") == .jpeg)
        #expect(try ImageEncoding.negotiate(accept: "image/png;q=0.1, */*") == .png)
        #expect(try ImageEncoding.negotiate(accept: "text/html, image/x-portable-arbitrarymap;q=0.2") == .pam)
        #expect(try ImageEncoding.negotiate(accept: "text/html") == nil)
        #expect(throws: TesseraError.self) { try ImageEncoding.negotiate(accept: "image/png;q=2") }
    }

    @Test("NumPy: Orthanc's header spelling, padded to 64 bytes; an .npz holds one entry arr_0")
    func numpy() throws {
        var writer = NumpyWriter(format: .float32, width: 128, height: 128, depth: 1)
        writer.append(ImageBuffer(format: .float32, width: 128, height: 128))
        let npy = writer.npy()
        let header = String(decoding: npy[10..<128], as: UTF8.self)
        #expect(header.hasPrefix("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 128,128,1), }") && header.hasSuffix(" \n"))
        #expect(npy.count == 128 + 128 * 128 * 4 && npy[8] == 118 && npy[9] == 0)
        let npz = try writer.npz()
        #expect(npz.starts(with: [0x50, 0x4B, 0x03, 0x04]) && String(decoding: npz[30..<35], as: UTF8.self) == "arr_0")
    }

    @Test("Rescaled NumPy values: floor(slope·x + intercept) in single precision; identity leaves integers")
    func rescale() throws {
        let image = Self.gray16([UInt16(bitPattern: -3), 10], width: 2, signed: true)
        let attributes = FrameAttributes(photometric: "MONOCHROME2", rescaleIntercept: -100.3, rescaleSlope: 0.37, windowCenter: 0, windowWidth: 1)
        let floats = try NumpyFrame.pixels(image, rescale: true, attributes: attributes)
        let values = stride(from: 0, to: floats.pixels.count, by: 4).map { index in
            Float(bitPattern: floats.pixels[index..<index + 4].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        }
        #expect(values == [-102, -97])
        #expect(try NumpyFrame.pixels(image, rescale: false, attributes: attributes) == image)
    }

    @Test("Slices: by position along the normal, else by IndexInSeries, else refused")
    func slices() throws {
        func slice(_ id: String, _ z: Double?, _ index: Int?) -> SliceOrdering.Slice {
            SliceOrdering.Slice(id: PublicID(unchecked: id), position: z.map { "0\\0\\\($0)" }, orientation: nil, indexInSeries: index)
        }
        let orientation = "1\\0\\0\\0\\1\\0"
        let byPosition = try SliceOrdering.order([slice("a", 5, 1), slice("b", -5, 2), slice("c", 0, 3)], seriesOrientation: orientation)
        #expect(byPosition.map(\.id.value) == ["b", "c", "a"])
        let byIndex = try SliceOrdering.order([slice("a", nil, 3), slice("b", nil, 1)], seriesOrientation: orientation)
        #expect(byIndex.map(\.id.value) == ["b", "a"])
        #expect(throws: TesseraError.self) { try SliceOrdering.order([slice("a", nil, nil), slice("b", 1, 1)], seriesOrientation: nil) }
    }

    @Test("PNG: signature, IHDR of the image, 16-bit samples big-endian")
    func png() throws {
        let png = try PNGEncoder.encode(Self.gray16([0x0102], width: 1))
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        #expect(Array(png[16..<26]) == [0, 0, 0, 1, 0, 0, 0, 1, 16, 0])
        #expect(throws: TesseraError.self) { try PNGEncoder.encode(ImageBuffer(format: .float32, width: 1, height: 1)) }
    }
}
