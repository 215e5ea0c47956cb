// Iterative pre-scan of encoded DICOM before DCMTK 3.6.7 parses it; see scan.hpp.
//
// The walk mirrors how DCMTK reads (dcmetinf.cc, dcfilefo.cc, dcdatset.cc, dcitem.cc, dcsequen.cc, dcpixseq.cc):
// - Meta header: after an optional 128-byte preamble + "DICM", present when the next two bytes are 02 00 or 00 02;
//   its syntax is guessed from its first 6 bytes (DcmItem::checkTransferSyntax); it ends where DCMTK ends it: after
//   (0002,0000)'s group length when the first element carries one, else at the first element whose group bytes
//   are not 0002.
// - Dataset: syntax from the meta's (0002,0010) through DcmXfer, guessed like DCMTK when unknown or absent; the
//   deflated syntaxes are inflated into a capped buffer first, with DCMTK's own zlib filter (no -lz needed).
// - Nesting (FINDINGS.md 4.3/4.4): explicit SQ (+1, same syntax); explicit UN or an unknown upper-case VR with
//   undefined length (+1, implicit little endian inside, CP-246); explicit OB/OW with undefined length on Pixel
//   Data or a private tag (+1, opaque fragments); implicit undefined length (+1: fragments for Pixel Data, items
//   in implicit little endian otherwise); implicit defined length when the dictionary says SQ or the value starts
//   with an item tag (+1); a private implicit value that some private-dictionary creator maps to SQ counts one
//   level without being entered (DCMTK enters it and stops when the creator resolves).
// - Refused: other non-standard VRs, delimiters where DCMTK would mis-nest (any delimiter in a defined-length
//   container, a defined-length implicit value starting with a non-item (FFFE,xxxx)), anything that overruns an
//   enclosing defined length, and data that ends inside an element or an open container.
#include "scan.hpp"
#include "budget.hpp"

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcdict.h"
#include "dcmtk/dcmdata/dcdicent.h"
#include "dcmtk/dcmdata/dchashdi.h"
#include "dcmtk/dcmdata/dcistrmb.h"
#include "dcmtk/dcmdata/dcistrmz.h"
#include "dcmtk/dcmdata/dctag.h"
#include "dcmtk/dcmdata/dcvr.h"
#include "dcmtk/dcmdata/dcxfer.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace tessera::scan {
namespace {

constexpr uint32_t kUndefinedLength = 0xFFFFFFFFu;
constexpr uint16_t kDelimiterGroup = 0xFFFE;
constexpr uint16_t kItem = 0xE000;
constexpr uint16_t kItemDelimiter = 0xE00D;
constexpr uint16_t kSequenceDelimiter = 0xE0DD;

/// Byte layout of a stretch of data.
struct Syntax {
    bool explicitVR;
    bool bigEndian;
};

constexpr Syntax kExplicitLittle{true, false};
constexpr Syntax kImplicitLittle{false, false};

inline uint16_t read16(const uint8_t *p, bool bigEndian) {
    return bigEndian ? uint16_t(p[0] << 8 | p[1]) : uint16_t(p[1] << 8 | p[0]);
}

inline uint32_t read32(const uint8_t *p, bool bigEndian) {
    return bigEndian ? uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]
                     : uint32_t(p[3]) << 24 | uint32_t(p[2]) << 16 | uint32_t(p[1]) << 8 | p[0];
}

inline bool isUpper(uint8_t c) { return c >= 'A' && c <= 'Z'; }

/// How DCMTK reads an explicit VR code (DcmVR::setVR, DcmItem::readTagAndLength).
enum class VRKind : uint8_t {
    Invalid,  ///< not two upper-case letters, or a DCMTK-internal/non-standard code: refused
    Short,    ///< standard VR with a 2-byte length
    Long,     ///< standard VR with reserved bytes and a 4-byte length
    Unknown,  ///< two upper-case letters DCMTK does not know: read as UN (4-byte length)
};

/// Dictionary facts, copied once from DCMTK's data dictionary.
struct Tables {
    VRKind vr[26 * 26];
    /// Keys (group << 16 | element) of non-repeating entries without private creator: all, and those with VR SQ.
    std::vector<uint32_t> exact, exactSequences;
    /// Repeating entries without private creator, in DCMTK's lookup order, and the subset with VR SQ.
    struct Range {
        uint16_t group, upperGroup, element, upperElement;
        DcmDictRangeRestriction groupRestriction, elementRestriction;
        bool sequence;
    };
    std::vector<Range> repeating, repeatingSequences;
    /// Keys of private-creator entries with VR SQ (an element <= 0xFF matches that offset in any block), and the
    /// repeating ones.
    std::vector<uint32_t> privateSequences;
    std::vector<Range> privateRepeatingSequences;
};

bool inRestriction(uint16_t value, DcmDictRangeRestriction restriction) {
    if (restriction == DcmDictRange_Even) return (value & 1) == 0;
    if (restriction == DcmDictRange_Odd) return (value & 1) == 1;
    return true;
}

Tables buildTables() {
    Tables tables;
    for (int a = 0; a < 26; a++) {
        for (int b = 0; b < 26; b++) {
            const char name[3] = {char('A' + a), char('A' + b), 0};
            DcmVR vr(name);
            VRKind kind = VRKind::Invalid;
            if (vr.getEVR() == EVR_UNKNOWN) kind = VRKind::Unknown;  // upper-case "future" VR: extended length
            else if (vr.isStandard()) kind = vr.usesExtendedLengthEncoding() ? VRKind::Long : VRKind::Short;
            tables.vr[a * 26 + b] = kind;
        }
    }
    DcmDataDictionary &dict = const_cast<DcmDataDictionary &>(dcmDataDict.rdlock());
    struct Unlock {
        ~Unlock() { dcmDataDict.rdunlock(); }
    } unlock;
    for (DcmHashDictIterator it = dict.normalBegin(); it != dict.normalEnd(); ++it) {
        const DcmDictEntry *entry = *it;
        if (entry == nullptr) continue;
        const bool sequence = entry->getEVR() == EVR_SQ;
        const uint32_t key = uint32_t(entry->getGroup()) << 16 | entry->getElement();
        if (entry->getPrivateCreator() == nullptr) {
            tables.exact.push_back(key);
            if (sequence) tables.exactSequences.push_back(key);
        } else if (sequence) {
            tables.privateSequences.push_back(key);
        }
    }
    for (DcmDictEntryListIterator it = dict.repeatingBegin(); it != dict.repeatingEnd(); ++it) {
        const DcmDictEntry *entry = *it;
        if (entry == nullptr) continue;
        if (entry->getPrivateCreator() == nullptr) {
            const Tables::Range range{entry->getGroup(), entry->getUpperGroup(), entry->getElement(),
                                      entry->getUpperElement(), entry->getGroupRangeRestriction(),
                                      entry->getElementRangeRestriction(), entry->getEVR() == EVR_SQ};
            tables.repeating.push_back(range);
            if (range.sequence) tables.repeatingSequences.push_back(range);
        } else if (entry->getEVR() == EVR_SQ) {
            tables.privateRepeatingSequences.push_back({entry->getGroup(), entry->getUpperGroup(), entry->getElement(),
                                                        entry->getUpperElement(), entry->getGroupRangeRestriction(),
                                                        entry->getElementRangeRestriction(), true});
        }
    }
    std::sort(tables.exact.begin(), tables.exact.end());
    std::sort(tables.exactSequences.begin(), tables.exactSequences.end());
    std::sort(tables.privateSequences.begin(), tables.privateSequences.end());
    return tables;
}

const Tables &tables() {
    static const Tables instance = buildTables();
    return instance;
}

bool contains(const Tables::Range &r, uint16_t group, uint16_t element) {
    return inRestriction(group, r.groupRestriction) && inRestriction(element, r.elementRestriction) &&
           group >= r.group && group <= r.upperGroup && element >= r.element && element <= r.upperElement;
}

/// VR of (g,e) in DCMTK's dictionary without private creator is SQ (what `DcmTag(g, e).getEVR()` says): exact
/// entries first, then the first repeating entry that contains the tag.
bool dictionarySaysSequence(const Tables &t, uint16_t group, uint16_t element) {
    const uint32_t key = uint32_t(group) << 16 | element;
    if (std::binary_search(t.exactSequences.begin(), t.exactSequences.end(), key)) return true;
    for (const Tables::Range &candidate : t.repeatingSequences) {
        if (!contains(candidate, group, element)) continue;
        // Rare: a repeating SQ entry covers the tag; DCMTK takes an exact entry first, then the first range.
        if (std::binary_search(t.exact.begin(), t.exact.end(), key)) return false;
        for (const Tables::Range &r : t.repeating)
            if (contains(r, group, element)) return r.sequence;
    }
    return false;
}

/// Some private creator in DCMTK's dictionary maps private element (g,e) (e >= 0x1000) to SQ.
bool privateMaySaySequence(const Tables &t, uint16_t group, uint16_t element) {
    const uint32_t flexible = uint32_t(group) << 16 | (element & 0xFF);
    const uint32_t exact = uint32_t(group) << 16 | element;
    if (std::binary_search(t.privateSequences.begin(), t.privateSequences.end(), flexible) ||
        std::binary_search(t.privateSequences.begin(), t.privateSequences.end(), exact))
        return true;
    for (const Tables::Range &r : t.privateRepeatingSequences)
        if (contains(r, group, element) || contains(r, group, uint16_t(element & 0xFF))) return true;
    return false;
}

/// Syntax DCMTK guesses from the next 6 bytes (DcmItem::checkTransferSyntax); `implicitBig` flags the
/// "virtual" implicit big endian DCMTK can guess, which is not DICOM and is refused.
Syntax guessSyntax(const uint8_t *p, size_t available, bool &implicitBig) {
    implicitBig = false;
    if (available < 6) return kExplicitLittle;
    const uint16_t t1 = uint16_t(p[0] | p[1] << 8);
    const uint16_t t2 = uint16_t(p[2] | p[3] << 8);
    const bool littleBad = DcmTag(t1, t2).error().bad();
    const bool bigBad = DcmTag(uint16_t(t1 << 8 | t1 >> 8), uint16_t(t2 << 8 | t2 >> 8)).error().bad();
    bool vrFound = false;
    const auto alpha = [](uint8_t c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); };
    if (alpha(p[4]) && alpha(p[5])) {
        const char name[3] = {char(p[4]), char(p[5]), 0};
        vrFound = DcmVR(name).isStandard();
    }
    bool big = false;
    if (!(littleBad && bigBad)) {
        if (littleBad) big = true;
        else if (!bigBad) big = t1 > 0xff && uint16_t(t1 << 8 | t1 >> 8) <= 0xff;
    }
    if (big && !vrFound) implicitBig = true;
    return Syntax{vrFound, big};
}

/// DcmMetaInfo::nextTagIsMeta: the next two bytes are group 0002 in either byte order.
bool nextTagIsMeta(const uint8_t *bytes, size_t length, size_t pos) {
    return pos + 2 <= length && ((bytes[pos] == 0x02 && bytes[pos + 1] == 0x00) ||
                                 (bytes[pos] == 0x00 && bytes[pos + 1] == 0x02));
}

enum class Kind : uint8_t { Dataset, Sequence, Fragments };

constexpr uint8_t kOwnerData = 0, kOwnerItem = 1, kOwnerSequence = 2;

/// One open container of the walk.
struct Frame {
    uint64_t end;       ///< own end offset when `defined`
    uint64_t limit;     ///< nearest enclosing defined end, or the end of the data
    int depth;          ///< sequence nesting; an item is at its sequence's depth
    Kind kind;
    bool defined;       ///< has a defined length
    uint8_t limitOwner; ///< what sets `limit`: kOwnerData, kOwnerItem or kOwnerSequence
    Syntax syntax;
};

/// How the meta header's top level ends (DcmMetaInfo::read).
struct MetaState {
    size_t start = 0;
    bool firstSeen = false;     ///< first top-level element read
    bool decided = false;       ///< end rule chosen
    enum class Rule { GroupLength, Group0002, AfterFirst } rule = Rule::Group0002;
    uint32_t lengthField = 0;   ///< DCMTK's Uint32 meta length (group length value + first element's size)
    // first top-level element
    uint16_t firstGroup = 0, firstElement = 0;
    uint32_t firstLength = 0;
    size_t firstValue = 0, firstHeader = 0;
    bool firstIsUL = false;
    // (0002,0010), first top-level occurrence
    bool tsFound = false, tsUsable = false;
    size_t tsValue = 0;
    uint32_t tsLength = 0;
};

/// Explicit-stack walker over one contiguous buffer.
class Walker {
public:
    Walker(const uint8_t *bytes, size_t length, const Limits &limits, Result &result, std::vector<Frame> &stack,
           const char *where, bool recordsPixelData = false)
        : bytes_(bytes), length_(length), limits_(limits), result_(result), stack_(stack), where_(where),
          recordsPixelData_(recordsPixelData) {}

    /// Walks from `pos` to the end of the data (meta == nullptr) or to the end of the meta header; updates `pos`.
    bool walk(size_t &pos, Syntax syntax, MetaState *meta);

    /// Sets the failure reason (printf-style) and returns false.
    bool fail(const char *format, ...) __attribute__((format(printf, 2, 3)));

private:
    /// Counts a value DCMTK will hold in memory (see Limits::maxReadLength).
    void load(uint32_t length);
    bool count();
    bool enter(int depth);
    bool overrun(uint64_t at, const Frame &frame, const char *what, uint16_t group, uint16_t element, bool tagKnown);
    enum class MetaStep { Continue, Done, Failed };
    MetaStep metaStep(MetaState &meta, uint64_t pos);

    const uint8_t *bytes_;
    size_t length_;
    const Limits &limits_;
    Result &result_;
    std::vector<Frame> &stack_;
    const char *where_;
    /// Whether this walk is the main dataset of a Part-10 input, whose top-level Pixel Data offset is recorded.
    bool recordsPixelData_;
};

bool Walker::fail(const char *format, ...) {
    char text[200];
    va_list args;
    va_start(args, format);
    std::vsnprintf(text, sizeof text, format, args);
    va_end(args);
    result_.ok = false;
    result_.error.assign(text);
    result_.error.append(where_);
    return false;
}

void Walker::load(uint32_t length) {
    if (limits_.maxReadLength == 0 || length <= limits_.maxReadLength) result_.loadedBytes += length;
}

bool Walker::count() {
    if (++result_.elements > limits_.maxElements) return fail("more than %lld elements", limits_.maxElements);
    return true;
}

bool Walker::enter(int depth) {
    if (depth > result_.depth) result_.depth = depth;
    if (depth > limits_.maxDepth) return fail("sequences nested deeper than %d", limits_.maxDepth);
    return true;
}

bool Walker::overrun(uint64_t at, const Frame &frame, const char *what, uint16_t group, uint16_t element,
                     bool tagKnown) {
    const unsigned long long offset = at;
    if (frame.limitOwner == kOwnerData) {
        if (tagKnown) return fail("truncated at offset %llu in (%04X,%04X)", offset, group, element);
        return fail("truncated at offset %llu", offset);
    }
    const char *container = frame.limitOwner == kOwnerItem ? "item" : "sequence";
    if (tagKnown)
        return fail("%s (%04X,%04X) at offset %llu overruns its %s", what, group, element, offset, container);
    return fail("%s at offset %llu overruns its %s", what, offset, container);
}

/// Whether DCMTK stops reading the meta header before the element at `pos`.
Walker::MetaStep Walker::metaStep(MetaState &meta, uint64_t pos) {
    if (!meta.firstSeen) return MetaStep::Continue;
    if (!meta.decided) {
        // DcmMetaInfo::readGroupLength: a (0002,0000) with a value supplies the length of the header.
        meta.decided = true;
        meta.rule = MetaState::Rule::Group0002;
        if (meta.firstGroup == 0x0002 && meta.firstElement == 0x0000 && meta.firstLength > 0) {
            const bool big = stack_.front().syntax.bigEndian;
            if (!meta.firstIsUL || meta.firstLength < 4 || meta.firstLength == kUndefinedLength) {
                fail("meta group length (0002,0000) is not a UL value");
                return MetaStep::Failed;
            }
            const uint32_t value = read32(bytes_ + meta.firstValue, big);
            meta.lengthField = value + uint32_t(meta.firstHeader + meta.firstLength);  // Uint32 as in DCMTK
            if (meta.lengthField == 0) meta.rule = MetaState::Rule::AfterFirst;
            else if (meta.lengthField != kUndefinedLength) meta.rule = MetaState::Rule::GroupLength;
        }
    }
    bool done = true;
    if (pos < length_) {
        switch (meta.rule) {
        case MetaState::Rule::AfterFirst: done = true; break;
        case MetaState::Rule::GroupLength: done = uint32_t(pos - meta.start) >= meta.lengthField; break;
        case MetaState::Rule::Group0002: done = !nextTagIsMeta(bytes_, length_, size_t(pos)); break;
        }
    }
    return done ? MetaStep::Done : MetaStep::Continue;
}

bool Walker::walk(size_t &start, Syntax syntax, MetaState *meta) {
    const Tables &dict = tables();
    stack_.clear();
    stack_.push_back(Frame{length_, length_, 0, Kind::Dataset, meta == nullptr, kOwnerData, syntax});
    uint64_t pos = start;

    while (!stack_.empty()) {
        const Frame &frame = stack_.back();  // not used after a push or pop below
        if (frame.defined && pos == frame.end) {
            stack_.pop_back();
            continue;
        }
        if (meta != nullptr && stack_.size() == 1) {
            const MetaStep step = metaStep(*meta, pos);
            if (step == MetaStep::Failed) return false;
            if (step == MetaStep::Done) {
                stack_.pop_back();
                break;
            }
        }
        const bool big = frame.syntax.bigEndian;
        const uint64_t room = frame.limit - pos;  // invariant: pos <= frame.limit
        const uint8_t *p = bytes_ + pos;

        if (frame.kind != Kind::Dataset) {
            // Inside a sequence or a pixel-fragment sequence: items and the sequence delimiter only.
            if (room < 8) return overrun(pos, frame, "item header", 0, 0, false);
            const uint16_t group = read16(p, big), element = read16(p + 2, big);
            const uint32_t length = read32(p + 4, big);
            if (group == kDelimiterGroup && element == kSequenceDelimiter) {
                if (frame.defined) return fail("sequence delimiter inside a defined-length sequence at offset %llu",
                                               static_cast<unsigned long long>(pos));
                if (length != 0) return fail("sequence delimiter with length %u at offset %llu", length,
                                             static_cast<unsigned long long>(pos));
                pos += 8;
                stack_.pop_back();
                continue;
            }
            if (group != kDelimiterGroup || element != kItem)
                return fail("(%04X,%04X) in a sequence at offset %llu, expected an item", group, element,
                            static_cast<unsigned long long>(pos));
            if (!count()) return false;
            pos += 8;
            if (frame.kind == Kind::Fragments) {
                if (length == kUndefinedLength)
                    return fail("undefined-length pixel fragment at offset %llu",
                                static_cast<unsigned long long>(pos - 8));
                if (length > frame.limit - pos) return overrun(pos - 8, frame, "pixel fragment", 0, 0, false);
                load(length);
                pos += length;
                continue;
            }
            Frame item{0, frame.limit, frame.depth, Kind::Dataset, false, frame.limitOwner, frame.syntax};
            if (length != kUndefinedLength) {
                if (length > frame.limit - pos) return overrun(pos - 8, frame, "item", 0, 0, false);
                item.defined = true;
                item.end = item.limit = pos + length;
                item.limitOwner = kOwnerItem;
            }
            stack_.push_back(item);
            continue;
        }

        // Dataset or item content: data elements, and the item delimiter in undefined-length items.
        if (room < 4) return overrun(pos, frame, "element header", 0, 0, false);
        const uint16_t group = read16(p, big), element = read16(p + 2, big);
        if (group == kDelimiterGroup) {
            if (element != kItemDelimiter)
                return fail("(FFFE,%04X) outside a sequence at offset %llu", element,
                            static_cast<unsigned long long>(pos));
            if (room < 8) return overrun(pos, frame, "item delimiter", 0, 0, false);
            if (frame.defined || stack_.size() == 1)
                return fail("unexpected item delimiter at offset %llu", static_cast<unsigned long long>(pos));
            pos += 8;
            stack_.pop_back();
            continue;
        }
        uint32_t length;
        uint64_t header;
        char vr0 = 0, vr1 = 0;
        VRKind vrKind = VRKind::Invalid;
        if (frame.syntax.explicitVR) {
            if (room < 6) return overrun(pos, frame, "element header", group, element, true);
            vr0 = char(p[4]);
            vr1 = char(p[5]);
            if (isUpper(p[4]) && isUpper(p[5])) vrKind = dict.vr[(p[4] - 'A') * 26 + (p[5] - 'A')];
            if (vrKind == VRKind::Invalid)
                return fail("non-standard VR %02X %02X in (%04X,%04X)", p[4], p[5], group, element);
            if (vrKind == VRKind::Short) {
                if (room < 8) return overrun(pos, frame, "element header", group, element, true);
                length = read16(p + 6, big);
                header = 8;
            } else {
                if (room < 12) return overrun(pos, frame, "element header", group, element, true);
                length = read32(p + 8, big);
                header = 12;
            }
        } else {
            if (room < 8) return overrun(pos, frame, "element header", group, element, true);
            length = read32(p + 4, big);
            header = 8;
        }
        if (!count()) return false;

        if (meta != nullptr) {
            if (stack_.size() == 1) {
                if (!meta->firstSeen) {
                    meta->firstSeen = true;
                    meta->firstGroup = group;
                    meta->firstElement = element;
                    meta->firstLength = length;
                    meta->firstHeader = size_t(header);
                    meta->firstValue = size_t(pos + header);
                    meta->firstIsUL = !frame.syntax.explicitVR || (vr0 == 'U' && vr1 == 'L');
                }
                if (group == 0x0002 && element == 0x0010 && !meta->tsFound) {
                    meta->tsFound = true;
                    meta->tsUsable = !frame.syntax.explicitVR || (vr0 == 'U' && vr1 == 'I');
                    meta->tsValue = size_t(pos + header);
                    meta->tsLength = length;
                }
            } else if (group == 0x0002 && element == 0x0010) {
                // DCMTK's search for (0002,0010) descends into sequences and could pick this one.
                return fail("transfer syntax UID inside a meta header sequence");
            }
        }

        const uint64_t elementStart = pos;
        pos += header;
        const bool pixelData = group == 0x7FE0 && element == 0x0010;
        if (pixelData && recordsPixelData_ && meta == nullptr && stack_.size() == 1 && result_.pixelDataOffset < 0) {
            result_.pixelDataOffset = static_cast<long long>(elementStart);
        }
        const bool isSQ = frame.syntax.explicitVR && vr0 == 'S' && vr1 == 'Q';
        const bool isUN = frame.syntax.explicitVR && ((vr0 == 'U' && vr1 == 'N') || vrKind == VRKind::Unknown);
        const bool isOBOW = frame.syntax.explicitVR && vr0 == 'O' && (vr1 == 'B' || vr1 == 'W');

        if (length == kUndefinedLength) {
            Frame child{0, frame.limit, frame.depth + 1, Kind::Sequence, false, frame.limitOwner, frame.syntax};
            if (frame.syntax.explicitVR) {
                if (isSQ) {
                    // a sequence in the same syntax
                } else if (isUN && !(pixelData && vr0 == 'O' && vr1 == 'X')) {
                    child.syntax = kImplicitLittle;  // CP-246: read as SQ, items in implicit VR little endian
                } else if (isOBOW || (pixelData && vr0 == 'O' && vr1 == 'X')) {
                    // DCMTK reads Pixel Data, and private elements its dictionary marks "px", as pixel sequences
                    // (fragments are never parsed); other undefined-length OB/OW are a parse error.
                    if (!pixelData && (group & 1) == 0)
                        return fail("undefined length on OB/OW element (%04X,%04X)", group, element);
                    child.kind = Kind::Fragments;
                } else {
                    return fail("undefined length on VR %c%c in (%04X,%04X)", vr0, vr1, group, element);
                }
            } else if (pixelData) {
                child.kind = Kind::Fragments;
            } else {
                child.syntax = kImplicitLittle;  // dictionary SQ, or unknown tag read as UN (CP-246)
            }
            if (!enter(child.depth)) return false;
            stack_.push_back(child);
            continue;
        }

        if (length > frame.limit - pos) return overrun(elementStart, frame, "element", group, element, true);
        bool sequence = isSQ;
        if (!frame.syntax.explicitVR && !pixelData) {
            if (length >= 4 && read16(p + header, big) == kDelimiterGroup) {
                const uint16_t first = read16(p + header + 2, big);
                if (first != kItem)
                    return fail("value of (%04X,%04X) starts with (FFFE,%04X)", group, element, first);
                sequence = true;
            }
            if (!sequence) sequence = dictionarySaysSequence(dict, group, element);
            if (!sequence && (group & 1) && element >= 0x1000 && privateMaySaySequence(dict, group, element)) {
                // DCMTK enters such a value as a sequence when the private creator resolves, then stops at the
                // first non-item tag (or finds it empty): one more level, never more.
                if (!enter(frame.depth + 1)) return false;
            }
        }
        if (sequence) {
            Frame child{pos + length, pos + length, frame.depth + 1, Kind::Sequence, true, kOwnerSequence,
                        frame.syntax};
            if (!enter(child.depth)) return false;
            stack_.push_back(child);
            continue;
        }
        load(length);
        pos += length;
    }
    start = size_t(pos);
    return true;
}

/// Heap buffer grown with realloc (large blocks grow by mremap: no copy, untouched pages stay unallocated).
struct InflatedBuffer {
    uint8_t *data = nullptr;
    size_t capacity = 0;
    size_t size = 0;
    /// The capacity, reserved from the process's parse budget.
    tessera::Reservation reservation;
    ~InflatedBuffer() { std::free(data); }
    enum class Growth { Grown, Busy, OutOfMemory };
    Growth reserve(size_t wanted) {
        if (!reservation.grow(tessera::ParseBudget::shared(), static_cast<long long>(wanted - capacity),
                              tessera::ParseBudget::defaultWait)) {
            return Growth::Busy;
        }
        void *grown = std::realloc(data, wanted);
        if (grown == nullptr) return Growth::OutOfMemory;
        data = static_cast<uint8_t *>(grown);
        capacity = wanted;
        return Growth::Grown;
    }
};

/// Inflates a deflated dataset into `out`, capped, through DCMTK's own zlib filter (so the semantics are exactly
/// DCMTK's: raw deflate unless dcmZlibExpectRFC1950Encoding, trailing bytes after the stream ignored).
bool inflateCapped(const uint8_t *data, size_t length, const Limits &limits, InflatedBuffer &out, Result &result) {
    const unsigned long long cap =
        limits.maxInflatedBytes < 0 ? 0ULL : static_cast<unsigned long long>(limits.maxInflatedBytes);
    const std::string tooLarge = "inflated dataset larger than " + std::to_string(cap) + " bytes";
    DcmBufferProducer producer;
    producer.setBuffer(data, static_cast<offile_off_t>(length));
    producer.setEos();
    DcmZLibInputFilter filter;
    filter.append(producer);
    int idle = 0;
    while (filter.good() && !filter.eos()) {
        if (out.size == out.capacity) {
            // Grow geometrically; one byte beyond the cap tells "too large" from "exactly the cap".
            if (out.capacity > cap) {
                result.error = tooLarge;
                return false;
            }
            const unsigned long long wanted =
                std::min<unsigned long long>(cap + 1, std::max<size_t>(size_t(1) << 20, 2 * out.capacity));
            switch (out.reserve(static_cast<size_t>(wanted))) {
            case InflatedBuffer::Growth::Grown: break;
            case InflatedBuffer::Growth::Busy:
                result.busy = true;
                result.error = "too many datasets being parsed at once: no memory to inflate this one now";
                return false;
            case InflatedBuffer::Growth::OutOfMemory:
                result.error = "out of memory inflating the dataset";
                return false;
            }
        }
        const size_t room = std::min<size_t>(out.capacity - out.size, 1u << 30);
        const offile_off_t got = filter.read(out.data + out.size, static_cast<offile_off_t>(room));
        out.size += static_cast<size_t>(got);
        // With all input handed to zlib and room for output, inflate only stalls on a cut-off stream.
        if (got == 0 && producer.avail() == 0) {
            if (++idle > 4) break;
        } else {
            idle = 0;
        }
    }
    if (!filter.good()) {
        result.error = std::string("deflated dataset corrupt: ") + filter.status().text();
        return false;
    }
    if (!filter.eos()) {
        result.error = "deflated dataset truncated";
        return false;
    }
    if (out.size > cap) {
        result.error = tooLarge;
        return false;
    }
    return true;
}

/// The transfer syntax UID as DCMTK's lookForXfer sees it: white space removed, up to the first NUL.
std::string transferSyntaxUID(const uint8_t *value, uint32_t length) {
    std::string uid;
    for (uint32_t i = 0; i < length; i++) {
        const char c = char(value[i]);
        if (c == '\0') break;
        if (c == ' ' || (c >= '\t' && c <= '\r')) continue;
        if (uid.size() == 128) return "?";  // longer than any UID or name DcmXfer knows
        uid.push_back(c);
    }
    return uid;
}

Result scan(const uint8_t *bytes, size_t length, const Limits &limits) {
    Result result;
    if (bytes == nullptr || length == 0) {
        result.error = "empty input";
        return result;
    }
    std::vector<Frame> stack;
    stack.reserve(static_cast<size_t>(std::min(std::max(limits.maxDepth, 0), 256)) * 2 + 4);

    // DcmMetaInfo::checkAndReadPreamble
    size_t pos = 0;
    if (length >= 132 && std::memcmp(bytes + 128, "DICM", 4) == 0) pos = 132;
    // DcmMetaInfo::read asks for a whole group length element before looking at the first tag.
    if (length - pos < 12) {
        result.error = "too short for DICOM";
        return result;
    }

    MetaState meta;
    bool implicitBig = false;
    if (nextTagIsMeta(bytes, length, pos)) {
        const Syntax metaSyntax = guessSyntax(bytes + pos, length - pos, implicitBig);
        if (implicitBig) {
            result.error = "meta header in implicit VR big endian";
            return result;
        }
        meta.start = pos;
        Walker walker(bytes, length, limits, result, stack, " (meta header)");
        if (!walker.walk(pos, metaSyntax, &meta)) return result;
    }
    if (pos == length) {  // no dataset: DCMTK accepts a file that ends after its meta header
        result.ok = true;
        return result;
    }

    E_TransferSyntax xfer = EXS_Unknown;
    if (meta.tsFound && meta.tsUsable && meta.tsLength > 0) {
        if (meta.tsLength > length - meta.tsValue) {
            result.error = "transfer syntax UID truncated";
            return result;
        }
        xfer = DcmXfer(transferSyntaxUID(bytes + meta.tsValue, meta.tsLength).c_str()).getXfer();
    }
    Syntax syntax;
    if (xfer == EXS_Unknown) {
        syntax = guessSyntax(bytes + pos, length - pos, implicitBig);
    } else {
        const DcmXfer known(xfer);
        syntax = Syntax{known.isExplicitVR(), known.isBigEndian()};
        implicitBig = !syntax.explicitVR && syntax.bigEndian;
        if (known.getStreamCompression() == ESC_unsupported) {
            result.error = "unsupported transfer syntax";
            return result;
        }
        if (known.getStreamCompression() != ESC_none) {
            InflatedBuffer inflated;
            if (!inflateCapped(bytes + pos, length - pos, limits, inflated, result)) return result;
            if (inflated.size == 0) {
                result.ok = true;
                return result;
            }
            size_t at = 0;
            Limits everyValueLoaded = limits;  // DCMTK defers no value of a filtered stream
            everyValueLoaded.maxReadLength = 0;
            Walker walker(inflated.data, inflated.size, everyValueLoaded, result, stack, " (inflated dataset)");
            if (!walker.walk(at, kExplicitLittle, nullptr)) return result;
            result.ok = true;
            return result;
        }
    }
    if (implicitBig) {
        result.error = "dataset in implicit VR big endian";
        return result;
    }
    const bool partTen = length >= 132 && std::memcmp(bytes + 128, "DICM", 4) == 0;
    Walker walker(bytes, length, limits, result, stack, "", partTen);
    if (!walker.walk(pos, syntax, nullptr)) return result;
    result.ok = true;
    return result;
}

}  // namespace

Result checkBuffer(const uint8_t *bytes, size_t length, const Limits &limits) noexcept {
    try {
        return scan(bytes, length, limits);
    } catch (const std::exception &error) {
        Result result;
        result.error = std::string("scan failed: ") + error.what();
        return result;
    } catch (...) {
        Result result;
        result.error = "scan failed";
        return result;
    }
}

Result checkFile(const char *path, const Limits &limits) noexcept {
    try {
        Result result;
        if (path == nullptr) {
            result.unreadable = true;
            result.error = "no path";
            return result;
        }
        const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            result.unreadable = true;
            result.error = std::string("cannot open: ") + std::strerror(errno);
            return result;
        }
        struct stat info;
        if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
            ::close(fd);
            result.unreadable = true;
            result.error = "not a regular file";
            return result;
        }
        const size_t size = static_cast<size_t>(info.st_size);
        if (size == 0) {
            ::close(fd);
            result.error = "empty input";
            return result;
        }
        void *mapped = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
        const int mapError = errno;
        ::close(fd);
        if (mapped == MAP_FAILED) {
            result.unreadable = true;
            result.error = std::string("cannot map: ") + std::strerror(mapError);
            return result;
        }
        struct Unmap {
            void *address;
            size_t size;
            ~Unmap() { ::munmap(address, size); }
        } unmap{mapped, size};
        return checkBuffer(static_cast<const uint8_t *>(mapped), size, limits);
    } catch (...) {
        Result result;
        result.error = "scan failed";
        return result;
    }
}

}  // namespace tessera::scan
