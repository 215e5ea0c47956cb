// Modification of a parsed file (POST /instances/{id}/modify): removals and replacements at the top level or inside
// sequence items addressed by DCMTK's path syntax, private tags removed, the file written back in its transfer syntax.
#include "include/cdicom.h"
#include "file.hpp"
#include "internal.hpp"

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dctk.h"
#include "dcmtk/dcmdata/dcostrmb.h"
#include "dcmtk/dcmdata/dcpath.h"
#include "dcmtk/dcmdata/dcspchrs.h"

#include <cstring>
#include <string>
#include <vector>

namespace {

using tessera::copyError;
using tessera::guarded;

/// The items a path prefix designates ("" is the dataset itself), only those that exist (as Orthanc: a path never
/// creates the items on its way).
bool itemsAt(cdicom_file *file, const char *prefix, std::vector<DcmItem *> &items, char *error, size_t error_length) {
    DcmDataset *dataset = file->format.getDataset();
    if (prefix == nullptr || *prefix == '\0') {
        items.push_back(dataset);
        return true;
    }
    DcmPathProcessor processor;
    processor.setItemWildcardSupport(OFTrue);
    processor.checkPrivateReservations(OFFalse);
    OFCondition found = processor.findOrCreatePath(dataset, prefix, OFFalse);
    if (found == EC_TagNotFound || found == EC_IllegalCall) return true;  // nothing there: nothing to do
    if (found.bad()) {
        copyError(error, error_length, std::string("invalid path \"") + prefix + "\": " + found.text());
        return false;
    }
    OFList<DcmPath *> results;
    processor.getResults(results);
    for (DcmPath *path : results) {
        if (path == nullptr || path->empty()) continue;
        DcmObject *last = path->back()->m_obj;
        if (last != nullptr && (last->ident() == EVR_item || last->ident() == EVR_dataset)) {
            items.push_back(static_cast<DcmItem *>(last));
        }
    }
    return true;
}

/// The single character set a value written into `dataset` is converted to: the first value of its Specific
/// Character Set, or `fallback` (Orthanc's DefaultEncoding) without one.
std::string targetCharset(DcmDataset *dataset, const char *fallback) {
    OFString value;
    if (dataset->findAndGetOFStringArray(DCM_SpecificCharacterSet, value).bad() || value.empty()) {
        return fallback == nullptr ? "" : fallback;
    }
    std::string first(value.c_str());
    size_t backslash = first.find('\\');
    if (backslash != std::string::npos) first = first.substr(0, backslash);
    while (!first.empty() && first.back() == ' ') first.pop_back();
    while (!first.empty() && first.front() == ' ') first.erase(first.begin());
    if (first.rfind("ISO 2022 IR ", 0) == 0) {
        std::string number = first.substr(12);
        first = number == "6" ? "" : "ISO_IR " + number;
    }
    return first;
}

/// `utf8` in the character set `charset`; characters it cannot hold are dropped (as Orthanc's conversion skips them).
std::string convertFromUTF8(const std::string &utf8, const std::string &charset) {
    if (charset == "ISO_IR 192") return utf8;
    bool ascii = true;
    for (unsigned char c : utf8) ascii = ascii && c < 0x80;
    if (ascii) return utf8;
    DcmSpecificCharacterSet converter;
    OFString converted;
    if (!charset.empty() && converter.selectCharacterSet("ISO_IR 192", charset.c_str()).good() &&
        converter.convertString(OFString(utf8.data(), utf8.size()), converted).good()) {
        return std::string(converted.c_str(), converted.length());
    }
    std::string kept;
    for (unsigned char c : utf8) {
        if (c < 0x80) kept.push_back(static_cast<char>(c));
    }
    return kept;
}

/// The VRs whose values the Specific Character Set encodes.
bool isText(DcmEVR vr) {
    switch (vr) {
        case EVR_PN: case EVR_LO: case EVR_SH: case EVR_ST: case EVR_LT: case EVR_UT: case EVR_UC:
            return true;
        default:
            return false;
    }
}

/// Removes the private elements of `item` and of every item nested in it, but those in `kept` (top level only).
void removePrivate(DcmItem *item, const std::vector<DcmTagKey> &kept) {
    for (unsigned long index = item->card(); index > 0; index--) {
        DcmElement *element = item->getElement(index - 1);
        if (element == nullptr) continue;
        bool keep = false;
        for (const DcmTagKey &key : kept) keep = keep || key == element->getTag();
        if (element->getTag().isPrivate() && !keep) {
            delete item->remove(element);
            continue;
        }
        if (element->ident() == EVR_SQ) {
            auto *sequence = static_cast<DcmSequenceOfItems *>(element);
            for (unsigned long at = 0; at < sequence->card(); at++) removePrivate(sequence->getItem(at), {});
        }
    }
}

/// The tag of a new element: its VR from the dictionary (the private one with `creator` for a private tag, the
/// creator read from the item when reserved there), UN when unknown.
DcmTag tagFor(DcmItem *item, uint16_t group, uint16_t element, const char *creator) {
    DcmTagKey key(group, element);
    DcmTag tag(key);
    if (key.isPrivate() && element >= 0x1000) {
        OFString reserved;
        if (DcmPathProcessor::getPrivateCreator(item, key, reserved).good() && !reserved.empty()) {
            tag = DcmTag(key, reserved.c_str());
        } else if (creator != nullptr && *creator != '\0') {
            tag = DcmTag(key, creator);
        }
    }
    if (tag.getEVR() == EVR_UNKNOWN || tag.getEVR() == EVR_UNKNOWN2B) tag.setVR(DcmVR(EVR_UN));
    return tag;
}

bool isBinary(DcmEVR vr) {
    switch (vr) {
        case EVR_OB: case EVR_OW: case EVR_OF: case EVR_OD: case EVR_OL: case EVR_OV: case EVR_UN:
        case EVR_ox: case EVR_px: case EVR_lt:
            return true;
        default:
            return false;
    }
}

/// Tags as the C API passes them (group << 16 | element).
std::vector<DcmTagKey> keys(const uint32_t *tags, size_t count) {
    std::vector<DcmTagKey> result;
    for (size_t index = 0; tags != nullptr && index < count; index++) {
        result.emplace_back(static_cast<Uint16>(tags[index] >> 16), static_cast<Uint16>(tags[index] & 0xFFFF));
    }
    return result;
}

bool listed(const std::vector<DcmTagKey> &list, const DcmTagKey &key) {
    for (const DcmTagKey &candidate : list) {
        if (candidate == key) return true;
    }
    return false;
}

/// In every item below `item` (not `item` itself): removes the elements in `removed`, empties those in `emptied`.
/// Curve data (50xx,xxxx), overlay data (60xx,3000) and overlay comments (60xx,4000), which PS 3.15 removes.
bool isCurveOrOverlay(const DcmTagKey &key) {
    const Uint16 group = key.getGroup();
    if ((group & 0xFF00) == 0x5000 && group % 2 == 0) return true;
    return (group & 0xFF00) == 0x6000 && group % 2 == 0 && (key.getElement() == 0x3000 || key.getElement() == 0x4000);
}

void anonymizeNested(DcmItem *item, const std::vector<DcmTagKey> &removed, const std::vector<DcmTagKey> &emptied, bool nested,
                     bool overlays) {
    for (unsigned long index = item->card(); index > 0; index--) {
        DcmElement *element = item->getElement(index - 1);
        if (element == nullptr) continue;
        const DcmTagKey key = element->getTag();
        if ((nested && listed(removed, key)) || (overlays && isCurveOrOverlay(key))) {
            delete item->remove(element);
            continue;
        }
        if (element->ident() == EVR_SQ) {
            auto *sequence = static_cast<DcmSequenceOfItems *>(element);
            if (nested && listed(emptied, key)) {
                while (sequence->card() > 0) delete sequence->remove(static_cast<unsigned long>(0));
                continue;
            }
            for (unsigned long at = 0; at < sequence->card(); at++) {
                anonymizeNested(sequence->getItem(at), removed, emptied, true, overlays);
            }
        } else if (nested && listed(emptied, key)) {
            element->clear();
        }
    }
}

/// Lines "prefix<TAB>gggg,eeee<TAB>value" for the elements in `tags` inside the sequence items below `item`.
void collectNested(DcmItem *item, const std::string &prefix, const std::vector<DcmTagKey> &tags, bool nested, std::string &out) {
    char name[16];
    for (unsigned long index = 0; index < item->card(); index++) {
        DcmElement *element = item->getElement(index);
        if (element == nullptr) continue;
        const DcmTagKey key = element->getTag();
        if (element->ident() == EVR_SQ) {
            auto *sequence = static_cast<DcmSequenceOfItems *>(element);
            std::snprintf(name, sizeof name, "(%04x,%04x)", key.getGroup(), key.getElement());
            for (unsigned long at = 0; at < sequence->card(); at++) {
                collectNested(sequence->getItem(at), (prefix.empty() ? "" : prefix + ".") + name + "[" + std::to_string(at) + "]",
                              tags, true, out);
            }
        } else if (nested && listed(tags, key)) {
            OFString value;
            if (element->getOFStringArray(value).bad()) continue;
            // The value in hex: any byte (tab, line ends, NUL) travels unharmed.
            static const char digits[] = "0123456789abcdef";
            std::string hex;
            for (size_t at = 0; at < value.length(); at++) {
                const auto byte = static_cast<unsigned char>(value[at]);
                hex.push_back(digits[byte >> 4]);
                hex.push_back(digits[byte & 0x0F]);
            }
            std::snprintf(name, sizeof name, "%04x,%04x", key.getGroup(), key.getElement());
            out += prefix + "\t" + name + "\t" + hex + "\n";
        }
    }
}

}  // namespace

extern "C" {

int cdicom_file_remove_private_tags(cdicom_file *file, const uint32_t *kept, size_t kept_count) {
    return guarded(0, [&] {
        if (file == nullptr) return 0;
        std::vector<DcmTagKey> keys;
        for (size_t index = 0; kept != nullptr && index < kept_count; index++) {
            keys.emplace_back(static_cast<Uint16>(kept[index] >> 16), static_cast<Uint16>(kept[index] & 0xFFFF));
        }
        removePrivate(file->format.getDataset(), keys);
        return 1;
    });
}

int cdicom_file_remove(cdicom_file *file, const char *prefix, uint16_t group, uint16_t element, char *error,
                       size_t error_length) {
    return guarded(0, error, error_length, [&] {
        if (file == nullptr) return 0;
        std::vector<DcmItem *> items;
        if (!itemsAt(file, prefix, items, error, error_length)) return 0;
        for (DcmItem *item : items) item->findAndDeleteElement(DcmTagKey(group, element), OFFalse, OFFalse);
        return 1;
    });
}

int cdicom_file_replace(cdicom_file *file, const char *prefix, uint16_t group, uint16_t element, const uint8_t *value,
                        size_t length, int binary, const char *default_charset, const char *private_creator,
                        char *error, size_t error_length) {
    return guarded(0, error, error_length, [&] {
        if (file == nullptr) return 0;
        std::vector<DcmItem *> items;
        if (!itemsAt(file, prefix, items, error, error_length)) return 0;
        const std::string charset = targetCharset(file->format.getDataset(), default_charset);
        for (DcmItem *item : items) {
            // An element already there keeps its VR (as it was read); a new one takes the dictionary's.
            DcmElement *existing = nullptr;
            DcmTag tag = item->findAndGetElement(DcmTagKey(group, element), existing, OFFalse).good() && existing != nullptr
                ? DcmTag(existing->getTag()) : tagFor(item, group, element, private_creator);
            if (tag.getEVR() == EVR_SQ) {
                copyError(error, error_length, std::string("tag ") + tag.getTagName() + " is a sequence: give a list of items");
                return 0;
            }
            // Text for a private numeric element is written as it is (Orthanc's bytes), under VR UN.
            if (tag.isPrivate() && !isBinary(tag.getEVR()) && !tag.getVR().isaString()) tag.setVR(DcmVR(EVR_UN));
            item->findAndDeleteElement(tag, OFFalse, OFFalse);
            DcmElement *created = DcmItem::newDicomElement(tag);
            if (created == nullptr) {
                copyError(error, error_length, "cannot create the element");
                return 0;
            }
            OFCondition status;
            if (isBinary(tag.getEVR())) {
                status = created->putUint8Array(value, static_cast<unsigned long>(length));
            } else {
                // Text from JSON is UTF-8, written in the file's character set; bytes of a data URI are kept as they are.
                const std::string text(reinterpret_cast<const char *>(value), length);
                const bool convert = binary == 0 && isText(tag.getEVR());
                const std::string converted = convert ? convertFromUTF8(text, charset) : text;
                status = created->putString(converted.c_str(), static_cast<Uint32>(converted.size()));
            }
            if (status.good()) status = item->insert(created, OFTrue);
            if (status.bad()) delete created;
            if (status.bad()) {
                copyError(error, error_length, std::string("cannot set ") + tag.getTagName() + ": " + status.text());
                return 0;
            }
        }
        if (prefix == nullptr || *prefix == '\0') {
            // The meta header follows the dataset's identity, as Orthanc's ParsedDicomFile keeps it.
            if (group == 0x0008 && (element == 0x0018 || element == 0x0016)) {
                const std::string text(reinterpret_cast<const char *>(value), length);
                file->format.getMetaInfo()->putAndInsertString(
                    element == 0x0018 ? DCM_MediaStorageSOPInstanceUID : DCM_MediaStorageSOPClassUID, text.c_str());
            }
        }
        return 1;
    });
}

int cdicom_file_replace_sequence(cdicom_file *file, const char *prefix, uint16_t group, uint16_t element,
                                 unsigned long items_count, char *error, size_t error_length) {
    return guarded(0, error, error_length, [&] {
        if (file == nullptr) return 0;
        std::vector<DcmItem *> items;
        if (!itemsAt(file, prefix, items, error, error_length)) return 0;
        for (DcmItem *item : items) {
            DcmTag tag(DcmTagKey(group, element));
            if (tag.getEVR() != EVR_SQ && tag.getEVR() != EVR_UNKNOWN && tag.getEVR() != EVR_UN &&
                !DcmTagKey(group, element).isPrivate()) {
                copyError(error, error_length, std::string("tag ") + tag.getTagName() + " is not a sequence");
                return 0;
            }
            tag.setVR(DcmVR(EVR_SQ));
            item->findAndDeleteElement(tag, OFFalse, OFFalse);
            auto *sequence = new DcmSequenceOfItems(tag);
            for (unsigned long index = 0; index < items_count; index++) sequence->append(new DcmItem());
            OFCondition status = item->insert(sequence, OFTrue);
            if (status.bad()) {
                delete sequence;
                copyError(error, error_length, status.text());
                return 0;
            }
        }
        return 1;
    });
}

int cdicom_file_save(cdicom_file *file, int fresh_meta, uint8_t **bytes, size_t *length, char *error, size_t error_length) {
    return guarded(0, error, error_length, [&] {
        if (file == nullptr || bytes == nullptr || length == nullptr) return 0;
        DcmDataset *dataset = file->format.getDataset();
        E_TransferSyntax syntax = file->writeSyntax != EXS_Unknown ? file->writeSyntax : dataset->getCurrentXfer();
        if (syntax == EXS_Unknown) syntax = EXS_LittleEndianExplicit;
        if (fresh_meta != 0) {
            // Nothing of the original header survives (source AE titles, private information): DCMTK writes the
            // required elements anew from the dataset. Group 0002 inside the dataset goes too.
            file->format.getMetaInfo()->clear();
            file->format.removeInvalidGroups();
        }
        if (file->format.validateMetaInfo(syntax).bad()) {
            copyError(error, error_length, "cannot write the meta header");
            return 0;
        }
        const Uint32 size = file->format.calcElementLength(syntax, EET_ExplicitLength) + 4096;
        std::vector<uint8_t> buffer(size);
        DcmOutputBufferStream stream(buffer.data(), size);
        file->format.transferInit();
        OFCondition written = file->format.write(stream, syntax, EET_ExplicitLength, nullptr, EGL_recalcGL,
                                                 EPD_noChange, 0, 0, 0, EWM_updateMeta);
        file->format.transferEnd();
        if (written.bad()) {
            copyError(error, error_length, std::string("cannot write the file: ") + written.text());
            return 0;
        }
        // Flushes the compression filter of a deflated syntax too, then asks the buffer how much it holds (tell()
        // counts the bytes before compression).
        stream.flush();
        void *filled = nullptr;
        offile_off_t used = 0;
        stream.flushBuffer(filled, used);
        auto *copy = static_cast<uint8_t *>(std::malloc(used > 0 ? static_cast<size_t>(used) : 1));
        if (copy == nullptr) {
            copyError(error, error_length, "out of memory");
            return 0;
        }
        std::memcpy(copy, buffer.data(), static_cast<size_t>(used));
        *bytes = copy;
        *length = static_cast<size_t>(used);
        return 1;
    });
}

int cdicom_file_anonymize_nested(cdicom_file *file, const uint32_t *removed, size_t removed_count, const uint32_t *emptied,
                                 size_t emptied_count, int curves_and_overlays) {
    return guarded(0, [&] {
        if (file == nullptr) return 0;
        anonymizeNested(file->format.getDataset(), keys(removed, removed_count), keys(emptied, emptied_count), false,
                        curves_and_overlays != 0);
        return 1;
    });
}

char *cdicom_file_nested_values(cdicom_file *file, const uint32_t *tags, size_t count) {
    return guarded<char *>(nullptr, [&]() -> char * {
        if (file == nullptr) return nullptr;
        std::string out;
        collectNested(file->format.getDataset(), "", keys(tags, count), false, out);
        auto *copy = static_cast<char *>(std::malloc(out.size() + 1));
        if (copy == nullptr) return nullptr;
        std::memcpy(copy, out.c_str(), out.size() + 1);
        return copy;
    });
}

int cdicom_generate_uid(int level, char uid[65]) {
    return guarded(0, [&] {
        const char *root = level == 1 ? SITE_STUDY_UID_ROOT : level == 2 ? SITE_SERIES_UID_ROOT : SITE_INSTANCE_UID_ROOT;
        char buffer[100];
        dcmGenerateUniqueIdentifier(buffer, root);
        std::strncpy(uid, buffer, 64);
        uid[64] = '\0';
        return 1;
    });
}

}  // extern "C"

int cdicom_file_put_pixel_data(cdicom_file *file, const uint8_t *bytes, size_t length, char *error, size_t error_length) {
    return guarded(0, error, error_length, [&] {
        if (file == nullptr) return 0;
        DcmDataset *dataset = file->format.getDataset();
        dataset->findAndDeleteElement(DCM_PixelData, OFFalse, OFFalse);
        // As Orthanc's EmbedImage: a DcmPixelData whose array is created and filled.
        DcmPixelData *pixels = new DcmPixelData(DCM_PixelData);
        Uint8 *target = nullptr;
        if (!pixels->createUint8Array(static_cast<Uint32>(length), target).good() || (length > 0 && target == nullptr)) {
            delete pixels;
            copyError(error, error_length, "cannot allocate the pixel data");
            return 0;
        }
        if (length > 0) std::memcpy(target, bytes, length);
        if (!dataset->insert(pixels, OFTrue, OFFalse).good()) {
            delete pixels;
            copyError(error, error_length, "cannot insert the pixel data");
            return 0;
        }
        return 1;
    });
}
