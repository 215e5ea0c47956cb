// Iterative pre-scan of encoded DICOM, run before DCMTK 3.6.7 parses a file or buffer.
//
// DCMTK's parser recurses once per nested sequence (about 1.5 KB of stack per level, no depth limit) and trusts
// every length field. This scanner walks the same bytes the way DCMTK will read them, with an explicit stack and
// without allocating anything a length field asks for, and refuses input that nests too deeply, has too many
// elements, inflates too far, or does not end exactly where its last element, item or sequence ends (truncation).
//
// The rules follow DCMTK 3.6.7 with its default global flags (see FINDINGS.md section 4 of the DCMTK research):
// the reported depth may exceed DCMTK's nesting, never fall below it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace tessera::scan {

/// Bounds for one check. The defaults suit a DCMTK worker with at least 512 KB of stack.
struct Limits {
    /// Deepest sequence nesting accepted (an item counts at the depth of its sequence).
    int maxDepth = 64;
    /// Data elements, items and pixel fragments accepted; DCMTK spends roughly 240 bytes of heap on each.
    long long maxElements = 1000000;
    /// Size cap of a deflated dataset once inflated.
    long long maxInflatedBytes = 256LL << 20;
    /// Values longer than this are left on disk by DCMTK until read (`loadFile`'s maxReadLength); 0: every value is
    /// loaded (a buffer, a deflated dataset). Only used for ``Result::loadedBytes``.
    unsigned long maxReadLength = 0;
};

/// Outcome of a check.
struct Result {
    /// True when DCMTK may parse the input.
    bool ok = false;
    /// Deepest sequence nesting seen (meta header and dataset); on failure, the depth reached so far.
    int depth = 0;
    /// Data elements, items and pixel fragments seen.
    long long elements = 0;
    /// Bytes of values DCMTK will load into memory (see ``Limits::maxReadLength``).
    long long loadedBytes = 0;
    /// True when the check failed because the process's parse budget had no room for the inflated dataset in time
    /// (the input may be fine: try again later).
    bool busy = false;
    /// True when the file could not be opened or mapped (missing, not a regular file).
    bool unreadable = false;
    /// Where the top-level Pixel Data element (7FE0,0010) starts in the input (Orthanc's `PixelDataOffset`), when a
    /// Part-10 input (preamble and "DICM") that is not deflated has one; -1 otherwise.
    long long pixelDataOffset = -1;
    /// Short reason when `ok` is false, e.g. "sequences nested deeper than 64" or "truncated at offset 1234".
    std::string error;
};

/// Checks a file: a Part-10 file (preamble, "DICM", meta group 0002) or a bare dataset, as
/// `DcmFileFormat::loadFile(path, EXS_Unknown)` reads it. The file is mapped read-only; pages of values that are
/// skipped are not touched.
Result checkFile(const char *path, const Limits &limits) noexcept;

/// Checks bytes in memory, laid out as for `checkFile` (what `DcmFileFormat::read` on a buffer stream reads).
Result checkBuffer(const uint8_t *bytes, size_t length, const Limits &limits) noexcept;

/// Heap DCMTK needs to hold what a successful check saw: about 256 bytes an element plus the values it loads.
inline long long estimatedParseMemory(const Result &result) {
    return result.elements * 256 + result.loadedBytes;
}

}  // namespace tessera::scan
