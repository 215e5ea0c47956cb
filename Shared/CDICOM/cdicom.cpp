// DCMTK 3.6.7 behind the plain-C API of include/cdicom.h.
#include "include/cdicom.h"
#include "internal.hpp"
#include "scan.hpp"
#include "budget.hpp"
#include "file.hpp"
#include "tls.hpp"

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dctk.h"
#include "dcmtk/dcmdata/dcistrmb.h"
#include "dcmtk/dcmdata/dcostrmb.h"
#include "dcmtk/dcmdata/dcpixseq.h"
#include "dcmtk/dcmdata/dcpxitem.h"
#include "dcmtk/dcmdata/dcdicdir.h"
#include "dcmtk/dcmdata/dcdirrec.h"
#include "dcmtk/dcmdata/dcrledrg.h"
#include "dcmtk/dcmdata/dcrleerg.h"
#include "dcmtk/dcmdata/dcspchrs.h"
#include "dcmtk/dcmjpeg/djdecode.h"
#include "dcmtk/dcmjpeg/djencode.h"
#include "dcmtk/dcmjpls/djdecode.h"
#include "dcmtk/dcmjpls/djencode.h"
#include "dcmtk/dcmnet/diutil.h"
#include "dcmtk/dcmnet/scppool.h"
#include "dcmtk/dcmnet/scu.h"
#include "dcmtk/oflog/oflog.h"

#include <atomic>
#include <iconv.h>
#include <memory>
#include <cstdio>
#include <type_traits>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {
/// See the definition below.
bool unknownAsString(DcmElement *element, std::string &bytes);

using tessera::copyError;
using tessera::guarded;

DcmItem *asItem(const cdicom_item *item) {
    return reinterpret_cast<DcmItem *>(const_cast<cdicom_item *>(item));
}

const cdicom_item *fromItem(DcmItem *item) {
    return reinterpret_cast<const cdicom_item *>(item);
}

DcmElement *findElement(const cdicom_item *item, uint16_t group, uint16_t element) {
    if (item == nullptr) return nullptr;
    DcmElement *found = nullptr;
    if (asItem(item)->findAndGetElement(DcmTagKey(group, element), found, OFFalse).bad()) return nullptr;
    return found;
}

/// After a structural check: reserves what DCMTK will need from the process's parse budget. False (with the reason
/// and the error text set) when the check failed or there was no room in time.
bool reserve(const tessera::scan::Result &checked, tessera::Reservation &reservation, int &reason, char *error,
             size_t error_length) {
    if (!checked.ok) {
        reason = checked.busy ? CDICOM_PARSE_BUSY : checked.unreadable ? CDICOM_PARSE_UNREADABLE : CDICOM_PARSE_INVALID;
        copyError(error, error_length, checked.error);
        return false;
    }
    if (!reservation.grow(tessera::ParseBudget::shared(), tessera::scan::estimatedParseMemory(checked),
                          tessera::ParseBudget::defaultWait)) {
        reason = CDICOM_PARSE_BUSY;
        copyError(error, error_length, "too many datasets being parsed at once: no memory for this one now");
        return false;
    }
    return true;
}

char *duplicate(const OFString &value) {
    size_t n = value.length();
    char *out = static_cast<char *>(std::malloc(n + 1));
    if (out == nullptr) return nullptr;
    std::memcpy(out, value.c_str(), n);
    out[n] = '\0';
    return out;
}

}  // namespace

extern "C" {

void cdicom_global_init(int verbose) {
    guarded(0, [&] {
        OFLog::configure(verbose ? OFLogger::INFO_LOG_LEVEL : OFLogger::ERROR_LOG_LEVEL);
        DJDecoderRegistration::registerCodecs();
        DJLSDecoderRegistration::registerCodecs();
        DcmRLEDecoderRegistration::registerCodecs();
        // Encoders with DCMTK's default parameters, as Orthanc registers them (transcoding).
        DJEncoderRegistration::registerCodecs();
        DJLSEncoderRegistration::registerCodecs();
        DcmRLEEncoderRegistration::registerCodecs();
        tessera::initializeTLS();
        return 0;
    });
}

int cdicom_dictionary_loaded(void) { return dcmDataDict.isDictionaryLoaded() ? 1 : 0; }

int cdicom_dictionary_lookup(const char *name, uint16_t *group, uint16_t *element, char vr[3]) {
    return guarded(0, [&]() -> int {
        if (name == nullptr || group == nullptr || element == nullptr || vr == nullptr) return 0;
        DcmTag tag;
        unsigned int g = 0, e = 0;
        char rest = 0;
        if (std::strlen(name) == 9 && std::sscanf(name, "%4x,%4x%c", &g, &e, &rest) == 2) {
            tag = DcmTag(DcmTagKey(static_cast<Uint16>(g), static_cast<Uint16>(e)));
        } else if (DcmTag::findTagFromName(name, tag).bad()) {
            return 0;
        }
        *group = tag.getGroup();
        *element = tag.getElement();
        const char *vrName = tag.getVR().getValidVRName();
        std::snprintf(vr, 3, "%s", vrName != nullptr ? vrName : "UN");
        return 1;
    });
}

int cdicom_dictionary_name(uint16_t group, uint16_t element, char *name, size_t length) {
    return guarded(0, [&]() -> int {
        if (name == nullptr || length == 0) return 0;
        DcmTag tag(DcmTagKey(group, element));
        const char *text = tag.getTagName();
        if (text == nullptr || std::strcmp(text, DcmTag_ERROR_TagName) == 0) return 0;
        std::snprintf(name, length, "%s", text);
        return 1;
    });
}

void cdicom_free(void *pointer) { std::free(pointer); }

int cdicom_storage_sop_class_count(void) { return numberOfDcmAllStorageSOPClassUIDs; }

const char *cdicom_storage_sop_class(int index) {
    if (index < 0 || index >= numberOfDcmAllStorageSOPClassUIDs) return nullptr;
    return dcmAllStorageSOPClassUIDs[index];
}

int cdicom_uid_name(const char *uid, char *name, size_t length) {
    return guarded(0, [&]() -> int {
        if (uid == nullptr || name == nullptr || length == 0) return 0;
        const char *text = dcmFindNameOfUID(uid);
        if (text == nullptr) return 0;
        std::snprintf(name, length, "%s", text);
        return 1;
    });
}

// MARK: - Files and datasets

cdicom_file *cdicom_file_parse(const uint8_t *bytes, size_t length, int *failure, char *error, size_t error_length) {
    int ignored = 0;
    int &reason = failure != nullptr ? *failure : ignored;
    reason = CDICOM_PARSE_BUSY;  // what an exception (out of memory) leaves
    return guarded<cdicom_file *>(nullptr, error, error_length, [&]() -> cdicom_file * {
        if (bytes == nullptr || length == 0) {
            reason = CDICOM_PARSE_INVALID;
            copyError(error, error_length, "empty input");
            return nullptr;
        }
        // DCMTK's parser recurses once per nested sequence and trusts length fields: check the structure first.
        tessera::scan::Result checked = tessera::scan::checkBuffer(bytes, length, tessera::scan::Limits());
        std::unique_ptr<cdicom_file> file(new cdicom_file());
        if (!reserve(checked, file->reservation, reason, error, error_length)) return nullptr;
        DcmInputBufferStream stream;
        stream.setBuffer(bytes, static_cast<offile_off_t>(length));
        stream.setEos();
        file->format.transferInit();
        OFCondition status = file->format.read(stream, EXS_Unknown, EGL_noChange, DCM_MaxReadLength);
        file->format.transferEnd();
        if (status.bad()) {
            reason = CDICOM_PARSE_INVALID;
            copyError(error, error_length, status.text());
            return nullptr;
        }
        return file.release();
    });
}

cdicom_file *cdicom_file_load(const char *path, uint32_t max_read_length, int *failure, char *error,
                              size_t error_length) {
    int ignored = 0;
    int &reason = failure != nullptr ? *failure : ignored;
    reason = CDICOM_PARSE_BUSY;  // what an exception (out of memory) leaves
    return guarded<cdicom_file *>(nullptr, error, error_length, [&]() -> cdicom_file * {
        if (path == nullptr) {
            reason = CDICOM_PARSE_UNREADABLE;
            return nullptr;
        }
        // DCMTK's parser recurses once per nested sequence and trusts length fields: check the structure first.
        tessera::scan::Limits limits;
        limits.maxReadLength = max_read_length;
        tessera::scan::Result checked = tessera::scan::checkFile(path, limits);
        std::unique_ptr<cdicom_file> file(new cdicom_file());
        if (!reserve(checked, file->reservation, reason, error, error_length)) return nullptr;
        OFCondition status = file->format.loadFile(OFFilename(path), EXS_Unknown, EGL_noChange, max_read_length,
                                                   ERM_autoDetect);
        if (status.bad()) {
            reason = CDICOM_PARSE_INVALID;
            copyError(error, error_length, status.text());
            return nullptr;
        }
        return file.release();
    });
}

void cdicom_file_free(cdicom_file *file) { delete file; }

int cdicom_file_dataset_syntax(const cdicom_file *file, char *uid, size_t uid_length) {
    if (file == nullptr || uid == nullptr || uid_length == 0) return 0;
    const E_TransferSyntax xfer = const_cast<cdicom_file *>(file)->format.getDataset()->getOriginalXfer();
    if (xfer == EXS_Unknown) return 0;
    std::snprintf(uid, uid_length, "%s", DcmXfer(xfer).getXferID());
    return 1;
}

int64_t cdicom_pixel_data_offset(const char *path) {
    try {
        const tessera::scan::Result checked = tessera::scan::checkFile(path, tessera::scan::Limits());
        return checked.ok ? checked.pixelDataOffset : -1;
    } catch (...) {
        return -1;
    }
}

const cdicom_item *cdicom_file_dataset(const cdicom_file *file) {
    return file == nullptr ? nullptr : fromItem(const_cast<cdicom_file *>(file)->format.getDataset());
}

const cdicom_item *cdicom_file_meta(const cdicom_file *file) {
    return file == nullptr ? nullptr : fromItem(const_cast<cdicom_file *>(file)->format.getMetaInfo());
}

int cdicom_item_contains(const cdicom_item *item, uint16_t group, uint16_t element) {
    return guarded(0, [&]() -> int {
        return findElement(item, group, element) != nullptr ? 1 : 0;
    });
}

int cdicom_item_vr(const cdicom_item *item, uint16_t group, uint16_t element, char vr[3]) {
    return guarded(0, [&]() -> int {
        DcmElement *found = findElement(item, group, element);
        if (found == nullptr) return 0;
        DcmVR name(found->getVR());
        const char *text = name.getVRName();
        vr[0] = text[0];
        vr[1] = text[0] == '\0' ? '\0' : text[1];
        vr[2] = '\0';
        return 1;
    });
}

int cdicom_item_string(const cdicom_item *item, uint16_t group, uint16_t element, char **value) {
    return guarded(0, [&]() -> int {
        DcmElement *found = findElement(item, group, element);
        if (found == nullptr || found->ident() == EVR_SQ) return 0;
        OFString text;
        std::string unknown;
        if (unknownAsString(found, unknown)) {
            // As Orthanc: a UN value read as text keeps its spaces (its identifiers hash them too).
            *value = duplicate(OFString(unknown.c_str(), unknown.size()));
            return *value != nullptr ? 1 : 0;
        }
        if (found->getOFStringArray(text).bad()) return 0;
        // Orthanc strips the padding of string values (space, or NUL for UI).
        while (!text.empty() && (text[text.length() - 1] == ' ' || text[text.length() - 1] == '\0')) {
            text.erase(text.length() - 1);
        }
        *value = duplicate(text);
        return *value != nullptr ? 1 : 0;
    });
}

int cdicom_item_float64(const cdicom_item *item, uint16_t group, uint16_t element, unsigned long position,
                        double *value) {
    return guarded(0, [&]() -> int {
        DcmElement *found = findElement(item, group, element);
        if (found == nullptr) return 0;
        switch (found->ident()) {
        case EVR_FL: {
            Float32 v;
            if (found->getFloat32(v, position).bad()) return 0;
            *value = v;
            return 1;
        }
        case EVR_FD:
        case EVR_DS: {
            Float64 v;
            if (found->getFloat64(v, position).bad()) return 0;
            *value = v;
            return 1;
        }
        default: {
            int64_t v;
            if (!cdicom_item_int64(item, group, element, position, &v)) return 0;
            *value = static_cast<double>(v);
            return 1;
        }
        }
    });
}

int cdicom_item_int64(const cdicom_item *item, uint16_t group, uint16_t element, unsigned long position,
                      int64_t *value) {
    return guarded(0, [&]() -> int {
        DcmElement *found = findElement(item, group, element);
        if (found == nullptr) return 0;
        switch (found->ident()) {
        case EVR_US: {
            Uint16 v;
            if (found->getUint16(v, position).bad()) return 0;
            *value = v;
            return 1;
        }
        case EVR_SS: {
            Sint16 v;
            if (found->getSint16(v, position).bad()) return 0;
            *value = v;
            return 1;
        }
        case EVR_UL: {
            Uint32 v;
            if (found->getUint32(v, position).bad()) return 0;
            *value = v;
            return 1;
        }
        case EVR_SL:
        case EVR_IS: {
            Sint32 v;
            if (found->getSint32(v, position).bad()) return 0;
            *value = v;
            return 1;
        }
        default:
            return 0;
        }
    });
}

long cdicom_item_sequence_count(const cdicom_item *item, uint16_t group, uint16_t element) {
    return guarded(-1L, [&]() -> long {
        DcmElement *found = findElement(item, group, element);
        if (found == nullptr || found->ident() != EVR_SQ) return -1;
        return static_cast<long>(static_cast<DcmSequenceOfItems *>(found)->card());
    });
}

const cdicom_item *cdicom_item_sequence_item(const cdicom_item *item, uint16_t group, uint16_t element,
                                             unsigned long index) {
    return guarded(static_cast<const cdicom_item *>(nullptr), [&]() -> const cdicom_item * {
        DcmElement *found = findElement(item, group, element);
        if (found == nullptr || found->ident() != EVR_SQ) return nullptr;
        DcmSequenceOfItems *sequence = static_cast<DcmSequenceOfItems *>(found);
        if (index >= sequence->card()) return nullptr;
        return fromItem(sequence->getItem(index));
    });
}

// MARK: - Walking a dataset element by element

}  // extern "C"

namespace {

/// Delimiters that reset the character set state of ISO 2022 encodings, per VR (as DCMTK uses them).
const char *delimitersFor(DcmEVR vr) {
    switch (vr) {
    case EVR_PN: return "\\^=";
    case EVR_LO: case EVR_SH: case EVR_UC: return "\\";
    case EVR_LT: case EVR_ST: case EVR_UT: return "\r\n\t\f";
    default: return "";
    }
}

bool affectedByCharacterSet(DcmEVR vr) {
    switch (vr) {
    case EVR_PN: case EVR_LO: case EVR_SH: case EVR_UC: case EVR_LT: case EVR_ST: case EVR_UT: return true;
    default: return false;
    }
}

}  // namespace

struct cdicom_charset {
    DcmSpecificCharacterSet converter;
    /// Set when DCMTK's converter cannot handle the character set but iconv can take the whole value at once
    /// (ISO 2022 Japanese: glibc's iconv has no single-G-set encodings for ISO-IR 87/159, DCMTK then refuses).
    iconv_t wholeValue = reinterpret_cast<iconv_t>(-1);

    ~cdicom_charset() {
        if (wholeValue != reinterpret_cast<iconv_t>(-1)) iconv_close(wholeValue);
    }

    bool convert(const std::string &from, DcmEVR vr, std::string &to) const {
        if (wholeValue == reinterpret_cast<iconv_t>(-1)) {
            OFString converted;
            if (const_cast<DcmSpecificCharacterSet &>(converter)
                    .convertString(OFString(from.data(), from.size()), converted, delimitersFor(vr)).bad()) {
                return false;
            }
            to.assign(converted.c_str(), converted.length());
            return true;
        }
        iconv(wholeValue, nullptr, nullptr, nullptr, nullptr);
        std::vector<char> output(from.size() * 4 + 16);
        char *in = const_cast<char *>(from.data());
        size_t inLeft = from.size();
        char *out = output.data();
        size_t outLeft = output.size();
        if (iconv(wholeValue, &in, &inLeft, &out, &outLeft) == static_cast<size_t>(-1)) return false;
        if (iconv(wholeValue, nullptr, nullptr, &out, &outLeft) == static_cast<size_t>(-1)) return false;
        to.assign(output.data(), output.size() - outLeft);
        return true;
    }
};

namespace {

DcmElement *elementAt(const cdicom_item *item, unsigned long index) {
    if (item == nullptr) return nullptr;
    DcmItem *dcmItem = asItem(item);
    if (index >= dcmItem->card()) return nullptr;
    return dcmItem->getElement(index);
}

char *duplicate(const std::string &value, size_t *length) {
    char *out = static_cast<char *>(std::malloc(value.size() + 1));
    if (out == nullptr) return nullptr;
    std::memcpy(out, value.data(), value.size());
    out[value.size()] = '\0';
    if (length != nullptr) *length = value.size();
    return out;
}

/// Formats a number as boost::lexical_cast<std::string> does (Orthanc's formatting): integers plainly,
/// floating point with 17 significant digits (floats are widened to double first).
std::string formatNumber(double value) {
    char text[64];
    std::snprintf(text, sizeof text, "%.17g", value);
    return text;
}

template <typename T, typename Getter>
bool joinNumbers(DcmElement *element, Getter get, std::string &out) {
    unsigned long count = element->getVM();
    if (element->getLength() == 0) count = 0;
    for (unsigned long i = 0; i < count; ++i) {
        T value;
        if (get(value, i).bad()) return i > 0;
        if (i > 0) out += '\\';
        if constexpr (std::is_floating_point_v<T>) {
            out += formatNumber(static_cast<double>(value));
        } else {
            out += std::to_string(value);
        }
    }
    return true;
}

}  // namespace

namespace {

/// Orthanc's text for a leaf element (see cdicom_item_element_text).
/// The bytes of a UN element whose tag the dictionary gives a string VR (Orthanc's `ConvertLeafElement` reads them as
/// text: files written with UN for public attributes, private tags of a known creator); false for other elements.
bool unknownAsString(DcmElement *element, std::string &bytes) {
    if (element == nullptr || element->ident() != EVR_UN) return false;
    const DcmTag &own = element->getTag();
    DcmTag looked(own.getXTag(), own.getPrivateCreator());
    const DcmEVR dictionaryVR = looked.getEVR();
    if (dictionaryVR == EVR_UN || dictionaryVR == EVR_UNKNOWN || !DcmVR(dictionaryVR).isaString()) return false;
    Uint8 *data = nullptr;
    if (element->getUint8Array(data).bad()) return false;
    const Uint32 length = element->getLength();
    // Orthanc's conversion to UTF-8 reads the value as a C string: it ends at the first NUL (a UID's padding).
    bytes = data == nullptr || length == 0 ? std::string()
                                           : std::string(reinterpret_cast<const char *>(data), strnlen(reinterpret_cast<const char *>(data), length));
    return true;
}

bool orthancText(DcmElement *element, const cdicom_charset *charset, std::string &out) {
    if (element == nullptr || !element->isLeaf()) return false;
    DcmEVR vr = element->ident();
    out.clear();
    std::string unknown;
    if (unknownAsString(element, unknown)) {
        // As Orthanc: the whole value, converted to UTF-8 by the dataset's character set.
        std::string converted;
        out = !unknown.empty() && charset != nullptr && charset->convert(unknown, EVR_LO, converted) ? converted : unknown;
        return true;
    }
    if (element->isaString()) {
        char *raw = nullptr;
        Uint32 rawLength = 0;
        DcmByteString *text = dynamic_cast<DcmByteString *>(element);
        if (text == nullptr || text->getString(raw, rawLength).bad()) return false;
        // Orthanc reads the value as a C string: it ends at the first NUL.
        std::string bytes = raw == nullptr ? std::string() : std::string(raw, strnlen(raw, rawLength));
        if (affectedByCharacterSet(vr) && !bytes.empty()) {
            std::string converted;
            if (charset != nullptr && charset->convert(bytes, vr, converted)) {
                bytes = converted;
            } else {
                std::string ascii;
                for (char c : bytes) if (static_cast<unsigned char>(c) >= 32 && static_cast<unsigned char>(c) < 127) ascii += c;
                bytes = ascii;
            }
        }
        out = bytes;
        return true;
    }
    bool ok = false;
    switch (vr) {
    case EVR_SL: ok = joinNumbers<Sint32>(element, [&](Sint32 &v, unsigned long i) { return element->getSint32(v, i); }, out); break;
    case EVR_SS: ok = joinNumbers<Sint16>(element, [&](Sint16 &v, unsigned long i) { return element->getSint16(v, i); }, out); break;
    case EVR_UL: ok = joinNumbers<Uint32>(element, [&](Uint32 &v, unsigned long i) { return element->getUint32(v, i); }, out); break;
    case EVR_US: ok = joinNumbers<Uint16>(element, [&](Uint16 &v, unsigned long i) { return element->getUint16(v, i); }, out); break;
    case EVR_FL: ok = joinNumbers<Float32>(element, [&](Float32 &v, unsigned long i) { return element->getFloat32(v, i); }, out); break;
    case EVR_FD: ok = joinNumbers<Float64>(element, [&](Float64 &v, unsigned long i) { return element->getFloat64(v, i); }, out); break;
    case EVR_AT: {
        // Orthanc shows the first attribute tag only.
        DcmTagKey tag;
        DcmAttributeTag *attribute = dynamic_cast<DcmAttributeTag *>(element);
        if (attribute != nullptr && attribute->getTagVal(tag, 0).good()) {
            char text[16];
            std::snprintf(text, sizeof text, "%04x,%04x", tag.getGroup(), tag.getElement());
            out = text;
            ok = true;
        }
        break;
    }
    default:
        return false;  // binary (OB, OW, UN, ...) and everything else: null
    }
    return ok;
}

}  // namespace

extern "C" {

cdicom_charset *cdicom_charset_create(const char *specific_character_set, char *error, size_t error_length) {
    return guarded(static_cast<cdicom_charset *>(nullptr), error, error_length, [&]() -> cdicom_charset * {
        cdicom_charset *charset = new (std::nothrow) cdicom_charset();
        if (charset == nullptr) {
            copyError(error, error_length, "out of memory");
            return nullptr;
        }
        OFString source = specific_character_set == nullptr ? "" : specific_character_set;
        // Orthanc reads a dataset without SpecificCharacterSet as Latin-1 (its DefaultEncoding).
        if (source.empty()) source = "ISO_IR 100";
        OFCondition status = charset->converter.selectCharacterSet(source, "ISO_IR 192");
        if (status.bad() && (source.find("IR 87") != OFString_npos || source.find("IR 159") != OFString_npos)) {
            charset->wholeValue = iconv_open("UTF-8", "ISO-2022-JP-2");
            if (charset->wholeValue != reinterpret_cast<iconv_t>(-1)) status = EC_Normal;
        }
        if (status.bad()) {
            copyError(error, error_length, status.text());
            delete charset;
            return nullptr;
        }
        return charset;
    });
}

void cdicom_charset_free(cdicom_charset *charset) { delete charset; }

unsigned long cdicom_item_element_count(const cdicom_item *item) {
    return guarded(0UL, [&]() -> unsigned long {
        return item == nullptr ? 0 : asItem(item)->card();
    });
}

int cdicom_item_element_at(const cdicom_item *item, unsigned long index, cdicom_element_info *info) {
    return guarded(0, [&]() -> int {
        DcmElement *element = elementAt(item, index);
        if (element == nullptr) return 0;
        info->group = element->getGTag();
        info->element = element->getETag();
        DcmVR vr(element->getVR());
        const char *name = vr.getValidVRName();
        info->vr[0] = name[0];
        info->vr[1] = name[0] == '\0' ? '\0' : name[1];
        info->vr[2] = '\0';
        info->is_sequence = element->isLeaf() ? 0 : 1;
        return 1;
    });
}

int cdicom_item_element_name(const cdicom_item *item, unsigned long index, char **name, char **private_creator) {
    return guarded(0, [&]() -> int {
        DcmElement *element = elementAt(item, index);
        if (element == nullptr) return 0;
        DcmTag tag(element->getTag());
        *name = duplicate(OFString(tag.getTagName()));
        const char *creator = tag.getPrivateCreator();
        *private_creator = creator == nullptr ? nullptr : duplicate(OFString(creator));
        return *name != nullptr ? 1 : 0;
    });
}

int cdicom_item_element_text(const cdicom_item *item, unsigned long index, const cdicom_charset *charset,
                             char **value, size_t *length) {
    return guarded(0, [&]() -> int {
        std::string text;
        if (!orthancText(elementAt(item, index), charset, text)) return 0;
        *value = duplicate(text, length);
        return *value != nullptr ? 1 : 0;
    });
}

int cdicom_item_text(const cdicom_item *item, uint16_t group, uint16_t element, const cdicom_charset *charset,
                     char **value, size_t *length) {
    return guarded(0, [&]() -> int {
        std::string text;
        if (!orthancText(findElement(item, group, element), charset, text)) return 0;
        *value = duplicate(text, length);
        return *value != nullptr ? 1 : 0;
    });
}

long cdicom_item_element_item_count(const cdicom_item *item, unsigned long index) {
    return guarded(-1L, [&]() -> long {
        DcmElement *element = elementAt(item, index);
        if (element == nullptr || element->isLeaf()) return -1;
        DcmSequenceOfItems *sequence = dynamic_cast<DcmSequenceOfItems *>(element);
        return sequence == nullptr ? -1 : static_cast<long>(sequence->card());
    });
}

const cdicom_item *cdicom_item_element_item(const cdicom_item *item, unsigned long index, unsigned long item_index) {
    return guarded(static_cast<const cdicom_item *>(nullptr), [&]() -> const cdicom_item * {
        DcmElement *element = elementAt(item, index);
        if (element == nullptr || element->isLeaf()) return nullptr;
        DcmSequenceOfItems *sequence = dynamic_cast<DcmSequenceOfItems *>(element);
        if (sequence == nullptr || item_index >= sequence->card()) return nullptr;
        return fromItem(sequence->getItem(item_index));
    });
}

namespace {
/// The pixel sequence of encapsulated pixel data in the main dataset, or NULL.
DcmPixelSequence *pixelSequence(const cdicom_item *item, DcmElement *element) {
    DcmPixelData *pixels = dynamic_cast<DcmPixelData *>(element);
    if (pixels == nullptr || asItem(item)->ident() != EVR_dataset) return nullptr;
    E_TransferSyntax xfer = static_cast<DcmDataset *>(asItem(item))->getOriginalXfer();
    if (!DcmXfer(xfer).isEncapsulated()) return nullptr;
    DcmPixelSequence *sequence = nullptr;
    if (pixels->getEncapsulatedRepresentation(xfer, nullptr, sequence).bad()) return nullptr;
    return sequence;
}

uint8_t *copyBytes(const Uint8 *source, size_t length) {
    uint8_t *out = static_cast<uint8_t *>(std::malloc(length == 0 ? 1 : length));
    if (out != nullptr && length > 0) std::memcpy(out, source, length);
    return out;
}
}  // namespace

int cdicom_item_element_raw(const cdicom_item *item, unsigned long index, long fragment, uint8_t **bytes, size_t *length) {
    return guarded(0, [&]() -> int {
        DcmElement *element = elementAt(item, index);
        if (element == nullptr || !element->isLeaf() || bytes == nullptr || length == nullptr) return 0;
        if (fragment >= 0) {
            DcmPixelSequence *sequence = pixelSequence(item, element);
            DcmPixelItem *piece = nullptr;
            if (sequence == nullptr || sequence->getItem(piece, static_cast<unsigned long>(fragment)).bad() || piece == nullptr) return 0;
            Uint8 *data = nullptr;
            if (piece->getUint8Array(data).bad() && piece->getLength() > 0) return 0;
            *length = piece->getLength();
            *bytes = copyBytes(data, *length);
            return *bytes != nullptr ? 1 : 0;
        }
        Uint32 size = element->getLength();
        uint8_t *out = static_cast<uint8_t *>(std::malloc(size == 0 ? 1 : size));
        if (out == nullptr) return 0;
        if (size > 0 && element->getPartialValue(out, 0, size, nullptr, EBO_LittleEndian).bad()) {
            std::free(out);
            return 0;
        }
        *bytes = out;
        *length = size;
        return 1;
    });
}

long cdicom_item_element_fragment_count(const cdicom_item *item, unsigned long index) {
    return guarded(-1L, [&]() -> long {
        DcmPixelSequence *sequence = pixelSequence(item, elementAt(item, index));
        return sequence == nullptr ? -1 : static_cast<long>(sequence->card());
    });
}

struct cdicom_dicomdir {
    DcmDicomDir dir;
    bool extended;
    cdicom_dicomdir(const char *path, bool extended) : dir(OFFilename(path), "ORTHANC_MEDIA"), extended(extended) {}
};

namespace {
/// The dataset's character set, for the DICOMDIR values being added (set by cdicom_dicomdir_add).
thread_local const cdicom_charset *recordCharset = nullptr;

/// A value converted to UTF-8, then with its non-ASCII characters dropped (Orthanc writes DICOMDIR records in
/// ASCII: "Buc^Jérôme" becomes "Buc^Jrme", an ISO 2022 name loses its escape sequences with its ideographs).
bool asciiValue(DcmItem &source, const DcmTagKey &key, OFString &value) {
    DcmElement *element = nullptr;
    if (source.findAndGetElement(key, element, OFFalse).bad() || element == nullptr) return false;
    std::string text;
    if (!orthancText(element, recordCharset, text)) text.clear();
    OFString raw(text.c_str());
    value.clear();
    for (size_t i = 0; i < raw.length(); i++) {
        unsigned char c = static_cast<unsigned char>(raw[i]);
        if (c >= 32 && c < 127) value += raw[i];
    }
    return true;
}

void copyTag(DcmItem &source, DcmDirectoryRecord &record, const DcmTagKey &key, bool whenEmpty, bool always) {
    OFString value;
    bool present = asciiValue(source, key, value);
    if ((present && (whenEmpty || !value.empty())) || always) record.putAndInsertString(key, value.c_str());
}

/// The first of `keys` present (even empty), else `fallback`.
void copyFirst(DcmItem &source, DcmDirectoryRecord &record, const DcmTagKey &target,
               std::initializer_list<DcmTagKey> keys, const OFString &fallback) {
    for (const DcmTagKey &key : keys) {
        OFString value;
        if (asciiValue(source, key, value)) {
            record.putAndInsertString(target, value.c_str());
            return;
        }
    }
    record.putAndInsertString(target, fallback.c_str());
}

/// The sub-record of `parent` of type `type` whose `key` equals `value`, created when missing.
DcmDirectoryRecord *childRecord(DcmDirectoryRecord &parent, E_DirRecType type, const DcmTagKey &key, const OFString &value,
                                bool &created) {
    for (unsigned long i = 0; i < parent.cardSub(); i++) {
        DcmDirectoryRecord *child = parent.getSub(i);
        OFString existing;
        // A key left out of a record (an empty PatientID) matches an empty value.
        if (child != nullptr && child->getRecordType() == type) {
            if (child->findAndGetOFStringArray(key, existing).bad()) existing.clear();
        }
        if (child != nullptr && child->getRecordType() == type && existing == value) {
            created = false;
            return child;
        }
    }
    DcmDirectoryRecord *record = new DcmDirectoryRecord(type, nullptr, OFFilename());
    parent.insertSub(record);
    created = true;
    return record;
}

void copyCharset(DcmItem &source, DcmDirectoryRecord &record) {
    OFString value;
    if (source.findAndGetOFStringArray(DCM_SpecificCharacterSet, value).good()) {
        record.putAndInsertString(DCM_SpecificCharacterSet, value.c_str());
    }
}
}  // namespace

cdicom_dicomdir *cdicom_dicomdir_create(const char *path, int extended, char *error, size_t error_length) {
    return guarded(static_cast<cdicom_dicomdir *>(nullptr), error, error_length, [&]() -> cdicom_dicomdir * {
        if (path == nullptr) return nullptr;
        cdicom_dicomdir *dir = new (std::nothrow) cdicom_dicomdir(path, extended != 0);
        if (dir == nullptr || dir->dir.error().bad()) {
            copyError(error, error_length, dir == nullptr ? "out of memory" : dir->dir.error().text());
            delete dir;
            return nullptr;
        }
        return dir;
    });
}

int cdicom_dicomdir_add(cdicom_dicomdir *dir, const char *file_path, const char *file_id, char *error, size_t error_length) {
    return guarded(0, error, error_length, [&]() -> int {
        if (dir == nullptr || file_path == nullptr || file_id == nullptr) return 0;
        tessera::scan::Limits limits;
        limits.maxReadLength = 4096;
        tessera::scan::Result checked = tessera::scan::checkFile(file_path, limits);
        tessera::Reservation reservation;
        int reason = 0;
        if (!reserve(checked, reservation, reason, error, error_length)) return 0;
        DcmFileFormat format;
        OFCondition status = format.loadFile(OFFilename(file_path), EXS_Unknown, EGL_noChange, 4096);
        if (status.bad()) {
            copyError(error, error_length, status.text());
            return 0;
        }
        DcmDataset &data = *format.getDataset();
        DcmMetaInfo &meta = *format.getMetaInfo();
        OFString specificCharacterSet;
        data.findAndGetOFStringArray(DCM_SpecificCharacterSet, specificCharacterSet);
        cdicom_charset *charset = cdicom_charset_create(specificCharacterSet.c_str(), nullptr, 0);
        recordCharset = charset;
        struct Release {
            cdicom_charset *charset;
            ~Release() { recordCharset = nullptr; cdicom_charset_free(charset); }
        } release{charset};
        OFString transferSyntax, sopClass, sopInstance;
        if (meta.findAndGetOFStringArray(DCM_TransferSyntaxUID, transferSyntax).bad() || transferSyntax.empty()) {
            copyError(error, error_length, "the file has no meta header (no TransferSyntaxUID): it cannot be put on a medium");
            return 0;
        }
        data.findAndGetOFStringArray(DCM_SOPClassUID, sopClass);
        data.findAndGetOFStringArray(DCM_SOPInstanceUID, sopInstance);
        OFString patientID, studyUID, seriesUID;
        asciiValue(data, DCM_PatientID, patientID);
        asciiValue(data, DCM_StudyInstanceUID, studyUID);
        asciiValue(data, DCM_SeriesInstanceUID, seriesUID);

        OFString now, today;
        DcmDate::getCurrentDate(today);
        DcmTime::getCurrentTime(now);
        bool created = false;
        DcmDirectoryRecord &root = dir->dir.getRootRecord();
        DcmDirectoryRecord *patient = childRecord(root, ERT_Patient, DCM_PatientID, patientID, created);
        if (created) {
            copyCharset(data, *patient);
            copyTag(data, *patient, DCM_PatientID, false, false);
            if (!patientID.empty() && !patient->tagExists(DCM_PatientID)) patient->putAndInsertString(DCM_PatientID, patientID.c_str());
            copyTag(data, *patient, DCM_PatientName, true, true);
        }
        DcmDirectoryRecord *study = childRecord(*patient, ERT_Study, DCM_StudyInstanceUID, studyUID, created);
        if (created) {
            copyCharset(data, *study);
            copyFirst(data, *study, DCM_StudyDate, {DCM_StudyDate, DCM_SeriesDate, DCM_AcquisitionDate, DCM_ContentDate}, today);
            copyFirst(data, *study, DCM_StudyTime, {DCM_StudyTime, DCM_SeriesTime, DCM_AcquisitionTime, DCM_ContentTime}, now);
            copyTag(data, *study, DCM_AccessionNumber, true, true);
            copyTag(data, *study, DCM_StudyDescription, true, true);
            study->putAndInsertString(DCM_StudyInstanceUID, studyUID.c_str());
            copyTag(data, *study, DCM_StudyID, false, false);
        }
        DcmDirectoryRecord *series = childRecord(*study, ERT_Series, DCM_SeriesInstanceUID, seriesUID, created);
        if (created) {
            copyCharset(data, *series);
            copyTag(data, *series, DCM_Modality, true, true);
            series->putAndInsertString(DCM_SeriesInstanceUID, seriesUID.c_str());
            copyTag(data, *series, DCM_SeriesNumber, false, false);
            if (dir->extended) copyTag(data, *series, DCM_SeriesDescription, true, false);
        }
        DcmDirectoryRecord *image = new DcmDirectoryRecord(ERT_Image, nullptr, OFFilename());
        copyCharset(data, *image);
        image->putAndInsertString(DCM_ReferencedFileID, file_id);
        image->putAndInsertString(DCM_ReferencedSOPClassUIDInFile, sopClass.c_str());
        image->putAndInsertString(DCM_ReferencedSOPInstanceUIDInFile, sopInstance.c_str());
        image->putAndInsertString(DCM_ReferencedTransferSyntaxUIDInFile, transferSyntax.c_str());
        copyTag(data, *image, DCM_InstanceNumber, true, true);
        series->insertSub(image);
        return 1;
    });
}

int cdicom_dicomdir_write(cdicom_dicomdir *dir, char *error, size_t error_length) {
    return guarded(0, error, error_length, [&]() -> int {
        if (dir == nullptr) return 0;
        OFCondition status = dir->dir.write(EXS_LittleEndianExplicit, EET_UndefinedLength, EGL_withoutGL);
        if (status.bad()) {
            copyError(error, error_length, status.text());
            return 0;
        }
        return 1;
    });
}

void cdicom_dicomdir_free(cdicom_dicomdir *dir) { delete dir; }

int cdicom_file_pixel_data(const cdicom_file *file, int64_t *length, long *fragments) {
    return guarded(0, [&]() -> int {
        if (file == nullptr || length == nullptr || fragments == nullptr) return 0;
        DcmDataset *dataset = const_cast<cdicom_file *>(file)->format.getDataset();
        DcmElement *element = nullptr;
        if (dataset == nullptr || dataset->findAndGetElement(DCM_PixelData, element, OFFalse).bad() || element == nullptr) return 0;
        *length = static_cast<int64_t>(element->getLength());
        *fragments = -1;
        DcmPixelData *pixels = dynamic_cast<DcmPixelData *>(element);
        E_TransferSyntax xfer = dataset->getOriginalXfer();
        if (pixels != nullptr && DcmXfer(xfer).isEncapsulated()) {
            DcmPixelSequence *sequence = nullptr;
            if (pixels->getEncapsulatedRepresentation(xfer, nullptr, sequence).good() && sequence != nullptr) {
                *fragments = static_cast<long>(sequence->card());
            }
        }
        return 1;
    });
}

}  // extern "C"
