import DICOM

/// Reads one sample of a native frame as Orthanc's `DicomIntegerPixelAccessor::GetValue`: little-endian bytes of
/// BitsAllocated, shifted right to the stored bits, masked, and sign-extended for signed data; 1-bit pixels read
/// least significant bit first as 0 or 255.
struct SampleAccessor {
    let width: Int
    let channels: Int
    let sampleBytes: Int
    let isPlanar: Bool
    let oneBit: Bool
    let shift: UInt32
    let mask: UInt32
    let signMask: UInt32
    let rowBytes: Int
    let planeBytes: Int

    init(frame: RawFrame, shift: Int) {
        width = frame.columns
        channels = frame.samplesPerPixel
        sampleBytes = max(1, frame.bitsAllocated / 8)
        isPlanar = frame.isPlanar
        oneBit = frame.bitsStored == 1
        self.shift = UInt32(shift)
        let stored = UInt32(frame.bitsStored)
        if frame.isSigned {
            mask = stored >= 32 ? UInt32.max >> 1 : (UInt32(1) << (stored - 1)) - 1
            signMask = UInt32(1) << (stored - 1)
        } else {
            mask = stored >= 32 ? UInt32.max : (UInt32(1) << stored) - 1
            signMask = 0
        }
        rowBytes = oneBit ? width / 8 : (isPlanar ? width * sampleBytes : width * sampleBytes * channels)
        planeBytes = frame.columns * frame.rows * sampleBytes
    }

    func value(_ bytes: UnsafeBufferPointer<UInt8>, x: Int, y: Int, channel: Int) -> Int32 {
        var offset = y * rowBytes
        if oneBit {
            return bytes[offset + x / 8] & (1 << UInt8(x % 8)) != 0 ? 255 : 0
        }
        offset += isPlanar ? channel * planeBytes + x * sampleBytes : channel * sampleBytes + x * channels * sampleBytes
        var raw: UInt32 = 0
        for index in 0..<sampleBytes { raw |= UInt32(bytes[offset + index]) << UInt32(8 * index) }
        raw >>= shift
        if raw & signMask != 0 {
            return -Int32(bitPattern: mask) + Int32(bitPattern: raw & mask) - 1
        }
        return Int32(truncatingIfNeeded: raw & mask)
    }
}
