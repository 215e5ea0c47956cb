import CTesseraZlib
import Foundation
import NIOCore

/// Writes a ZIP archive as a stream, entry after entry, without holding the archive or any whole file in memory:
/// a local header (sizes known up front, CRC-32 in a data descriptor after the bytes), the bytes as they come, then
/// the central directory at the end. Entries are stored (DICOM pixel data is mostly compressed already, and
/// storing keeps a download as fast as the disk). ZIP64 records are added when an entry, an offset or the entry
/// count outgrows the classic format, so archives of any size open in standard tools.
public struct ZipStreamWriter: Sendable {
    struct Entry: Sendable {
        let name: [UInt8]
        let size: UInt64
        let offset: UInt64
        let time: UInt16
        let date: UInt16
        var crc: UInt32 = 0
        var written: UInt64 = 0
        var isZip64: Bool { size >= 0xFFFF_FFFF }
    }

    private var entries: [Entry] = []
    private var offset: UInt64 = 0
    /// Bytes handed out so far (the archive's size once ``finish()`` has been written).
    public var bytesWritten: UInt64 { offset }

    public init() {}

    /// Starts an entry of `size` bytes; returns the local header to send before the entry's bytes.
    public mutating func beginEntry(_ name: String, size: UInt64, modified: Date = Date()) -> ByteBuffer {
        let (time, date) = Self.dosDateTime(modified)
        let entry = Entry(name: Array(name.utf8), size: size, offset: offset, time: time, date: date)
        var header = ByteBuffer()
        header.writeInteger(UInt32(0x0403_4B50), endianness: .little)
        header.writeInteger(UInt16(entry.isZip64 ? 45 : 20), endianness: .little)
        header.writeInteger(Self.flags, endianness: .little)
        header.writeInteger(UInt16(0), endianness: .little)  // stored
        header.writeInteger(time, endianness: .little)
        header.writeInteger(date, endianness: .little)
        header.writeInteger(UInt32(0), endianness: .little)  // CRC-32: in the data descriptor
        let small = UInt32(truncatingIfNeeded: entry.isZip64 ? 0xFFFF_FFFF : size)
        header.writeInteger(small, endianness: .little)
        header.writeInteger(small, endianness: .little)
        header.writeInteger(UInt16(entry.name.count), endianness: .little)
        header.writeInteger(UInt16(entry.isZip64 ? 20 : 0), endianness: .little)
        header.writeBytes(entry.name)
        if entry.isZip64 {
            header.writeInteger(UInt16(0x0001), endianness: .little)
            header.writeInteger(UInt16(16), endianness: .little)
            header.writeInteger(size, endianness: .little)
            header.writeInteger(size, endianness: .little)
        }
        entries.append(entry)
        offset += UInt64(header.readableBytes)
        return header
    }

    /// Accounts for bytes of the current entry (the caller sends `chunk` itself, unchanged).
    public mutating func entryData(_ chunk: ByteBuffer) {
        guard var entry = entries.popLast() else { return }
        entry.crc = chunk.withUnsafeReadableBytes { bytes in
            UInt32(truncatingIfNeeded: crc32(uLong(entry.crc), bytes.baseAddress?.assumingMemoryBound(to: Bytef.self), uInt(bytes.count)))
        }
        entry.written += UInt64(chunk.readableBytes)
        entries.append(entry)
        offset += UInt64(chunk.readableBytes)
    }

    /// Ends the current entry; returns its data descriptor. Throws when fewer or more bytes came than announced.
    public mutating func endEntry() throws -> ByteBuffer {
        guard let entry = entries.last else { return ByteBuffer() }
        guard entry.written == entry.size else { throw SizeMismatch(expected: entry.size, written: entry.written) }
        var descriptor = ByteBuffer()
        descriptor.writeInteger(UInt32(0x0807_4B50), endianness: .little)
        descriptor.writeInteger(entry.crc, endianness: .little)
        if entry.isZip64 {
            descriptor.writeInteger(entry.size, endianness: .little)
            descriptor.writeInteger(entry.size, endianness: .little)
        } else {
            descriptor.writeInteger(UInt32(entry.size), endianness: .little)
            descriptor.writeInteger(UInt32(entry.size), endianness: .little)
        }
        offset += UInt64(descriptor.readableBytes)
        return descriptor
    }

    /// The central directory and end records, to send last.
    public mutating func finish() -> ByteBuffer {
        var directory = ByteBuffer()
        let start = offset
        for entry in entries {
            let needsOffset = entry.offset >= 0xFFFF_FFFF
            var extra = ByteBuffer()
            if entry.isZip64 || needsOffset {
                extra.writeInteger(UInt16(0x0001), endianness: .little)
                extra.writeInteger(UInt16((entry.isZip64 ? 16 : 0) + (needsOffset ? 8 : 0)), endianness: .little)
                if entry.isZip64 {
                    extra.writeInteger(entry.size, endianness: .little)
                    extra.writeInteger(entry.size, endianness: .little)
                }
                if needsOffset { extra.writeInteger(entry.offset, endianness: .little) }
            }
            directory.writeInteger(UInt32(0x0201_4B50), endianness: .little)
            directory.writeInteger(UInt16(0x0300 | 45), endianness: .little)  // made by: Unix, 4.5
            directory.writeInteger(UInt16(entry.isZip64 || needsOffset ? 45 : 20), endianness: .little)
            directory.writeInteger(Self.flags, endianness: .little)
            directory.writeInteger(UInt16(0), endianness: .little)
            directory.writeInteger(entry.time, endianness: .little)
            directory.writeInteger(entry.date, endianness: .little)
            directory.writeInteger(entry.crc, endianness: .little)
            let small = UInt32(truncatingIfNeeded: entry.isZip64 ? 0xFFFF_FFFF : entry.size)
            directory.writeInteger(small, endianness: .little)
            directory.writeInteger(small, endianness: .little)
            directory.writeInteger(UInt16(entry.name.count), endianness: .little)
            directory.writeInteger(UInt16(extra.readableBytes), endianness: .little)
            directory.writeInteger(UInt16(0), endianness: .little)  // comment
            directory.writeInteger(UInt16(0), endianness: .little)  // disk
            directory.writeInteger(UInt16(0), endianness: .little)  // internal attributes
            directory.writeInteger(UInt32(0o100644) << 16, endianness: .little)
            directory.writeInteger(UInt32(truncatingIfNeeded: needsOffset ? 0xFFFF_FFFF : entry.offset), endianness: .little)
            directory.writeBytes(entry.name)
            directory.writeImmutableBuffer(extra)
        }
        let size = UInt64(directory.readableBytes)
        let count = UInt64(entries.count)
        let zip64 = count >= 0xFFFF || start >= 0xFFFF_FFFF || size >= 0xFFFF_FFFF
        if zip64 {
            let record = start + size
            directory.writeInteger(UInt32(0x0606_4B50), endianness: .little)
            directory.writeInteger(UInt64(44), endianness: .little)
            directory.writeInteger(UInt16(0x0300 | 45), endianness: .little)
            directory.writeInteger(UInt16(45), endianness: .little)
            directory.writeInteger(UInt32(0), endianness: .little)
            directory.writeInteger(UInt32(0), endianness: .little)
            directory.writeInteger(count, endianness: .little)
            directory.writeInteger(count, endianness: .little)
            directory.writeInteger(size, endianness: .little)
            directory.writeInteger(start, endianness: .little)
            directory.writeInteger(UInt32(0x0706_4B50), endianness: .little)
            directory.writeInteger(UInt32(0), endianness: .little)
            directory.writeInteger(record, endianness: .little)
            directory.writeInteger(UInt32(1), endianness: .little)
        }
        directory.writeInteger(UInt32(0x0605_4B50), endianness: .little)
        directory.writeInteger(UInt16(0), endianness: .little)
        directory.writeInteger(UInt16(0), endianness: .little)
        directory.writeInteger(UInt16(truncatingIfNeeded: min(count, 0xFFFF)), endianness: .little)
        directory.writeInteger(UInt16(truncatingIfNeeded: min(count, 0xFFFF)), endianness: .little)
        directory.writeInteger(UInt32(truncatingIfNeeded: min(size, 0xFFFF_FFFF)), endianness: .little)
        directory.writeInteger(UInt32(truncatingIfNeeded: min(start, 0xFFFF_FFFF)), endianness: .little)
        directory.writeInteger(UInt16(0), endianness: .little)
        offset += UInt64(directory.readableBytes)
        return directory
    }

    /// Bit 3: CRC-32 in a data descriptor; bit 11: names are UTF-8.
    private static let flags: UInt16 = 0x0808

    private static func dosDateTime(_ date: Date) -> (UInt16, UInt16) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let year = max(1980, min(2107, parts.year ?? 1980))
        let time = UInt16((parts.hour ?? 0) << 11 | (parts.minute ?? 0) << 5 | (parts.second ?? 0) / 2)
        let day = UInt16((year - 1980) << 9 | (parts.month ?? 1) << 5 | (parts.day ?? 1))
        return (time, day)
    }

    /// An entry did not receive the number of bytes announced in its header (the file changed while being read).
    public struct SizeMismatch: Error, CustomStringConvertible {
        public let expected: UInt64
        public let written: UInt64
        public var description: String { "ZIP entry announced \(expected) bytes, got \(written)" }
    }
}
