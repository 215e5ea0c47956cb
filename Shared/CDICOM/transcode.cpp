// Transcoding a parsed file to another transfer syntax as Orthanc's built-in DCMTK transcoder does (1.10): the ten
// syntaxes it can write, DCMTK's default codec parameters (a new SOP Instance UID for lossy targets, derivation and
// lossy-compression attributes set by the encoder), a fresh meta header.
#include "include/cdicom.h"
#include "budget.hpp"
#include "file.hpp"
#include "internal.hpp"

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dctk.h"
#include "dcmtk/dcmdata/dcpixseq.h"
#include "dcmtk/dcmdata/dcpxitem.h"
#include "dcmtk/dcmdata/dcrlerp.h"
#include "dcmtk/dcmjpeg/djrplol.h"
#include "dcmtk/dcmjpeg/djrploss.h"
#include "dcmtk/dcmjpls/djrparam.h"

#include <memory>
#include <string>

namespace {

using tessera::copyError;
using tessera::guarded;

Uint16 attribute(DcmItem *dataset, const DcmTagKey &key, Uint16 fallback) {
    Uint16 value = 0;
    return dataset->findAndGetUint16(key, value).good() ? value : fallback;
}

/// Why the samples of native pixel data `element` (attributes in `owner`) do not fit in BitsStored, or "" when they do.
std::string samplesBeyondBitsStored(DcmItem *owner, DcmElement *element) {
    const Uint16 allocated = attribute(owner, DCM_BitsAllocated, 0);
    const Uint16 stored = attribute(owner, DCM_BitsStored, allocated);
    const Uint16 high = attribute(owner, DCM_HighBit, stored == 0 ? 0 : stored - 1);
    if (allocated != 8 && allocated != 16) return "";
    if (stored == 0 || stored > allocated || high >= allocated) return "BitsStored or HighBit out of range";
    if (stored == allocated) return "";
    // The encoder shifts samples whose high bit is above BitsStored down first.
    const unsigned shift = high + 1u >= stored ? high + 1u - stored : 0;
    const unsigned limit = 1u << stored;
    bool fits = true;
    if (allocated == 16) {
        Uint16 *words = nullptr;
        fits = element->getUint16Array(words).good() && words != nullptr;
        const Uint32 count = fits ? element->getLength() / 2 : 0;
        for (Uint32 i = 0; fits && i < count; i++) fits = static_cast<unsigned>(words[i] >> shift) < limit;
    } else {
        Uint8 *bytes = nullptr;
        fits = element->getUint8Array(bytes).good() && bytes != nullptr;
        const Uint32 count = fits ? element->getLength() : 0;
        for (Uint32 i = 0; fits && i < count; i++) fits = static_cast<unsigned>(bytes[i] >> shift) < limit;
    }
    return fits ? "" : "pixel values beyond BitsStored (" + std::to_string(stored) + " bits; signed values sign-extended?)";
}

}  // namespace

int cdicom_file_transcode(cdicom_file *file, const char *target, int quality, int allow_new_uid, char *error,
                          size_t error_length) {
    if (file == nullptr || target == nullptr) return CDICOM_TRANSCODE_FAILED;
    return guarded<int>(CDICOM_TRANSCODE_FAILED, error, error_length, [&]() -> int {
        DcmDataset *dataset = file->format.getDataset();
        const std::string uid(target);
        const E_TransferSyntax syntax = DcmXfer(target).getXfer();
        const E_TransferSyntax source = dataset->getOriginalXfer();
        if (syntax != EXS_Unknown && syntax == source) return CDICOM_TRANSCODE_UNCHANGED;
        const bool hasBitsStored = dataset->tagExists(DCM_BitsStored);
        const Uint16 bitsStored = attribute(dataset, DCM_BitsStored, 0);
        std::unique_ptr<DcmRepresentationParameter> parameter;
        bool lossy = false;
        switch (syntax) {
        case EXS_LittleEndianImplicit:
        case EXS_LittleEndianExplicit:
        case EXS_BigEndianExplicit:
        case EXS_DeflatedLittleEndianExplicit:
            break;
        case EXS_JPEGProcess1:
            lossy = true;
            if (hasBitsStored && bitsStored != 8) {
                copyError(error, error_length, "JPEG baseline holds 8-bit images only (BitsStored " + std::to_string(bitsStored) + ")");
                return CDICOM_TRANSCODE_FAILED;
            }
            parameter.reset(new DJ_RPLossy(static_cast<int>(quality)));
            break;
        case EXS_JPEGProcess2_4:
            lossy = true;
            if (hasBitsStored && bitsStored > 12) {
                copyError(error, error_length, "JPEG extended holds images of 12 bits at most (BitsStored " + std::to_string(bitsStored) + ")");
                return CDICOM_TRANSCODE_FAILED;
            }
            parameter.reset(new DJ_RPLossy(static_cast<int>(quality)));
            break;
        case EXS_JPEGProcess14:
        case EXS_JPEGProcess14SV1:
            parameter.reset(new DJ_RPLossless(6, 0));
            break;
        case EXS_JPEGLSLossless:
            parameter.reset(new DJLSRepresentationParameter(2, OFTrue));
            break;
        case EXS_JPEGLSLossy:
            lossy = true;
            parameter.reset(new DJLSRepresentationParameter(2, OFFalse));
            break;
        case EXS_RLELossless:
            // Beyond Orthanc's core (which has no RLE encoder): DCMTK's, with its defaults.
            parameter.reset(new DcmRLERepresentationParameter());
            break;
        default:
            copyError(error, error_length, "no encoder for the transfer syntax " + uid);
            return CDICOM_TRANSCODE_FAILED;
        }
        if (lossy && allow_new_uid == 0) {
            copyError(error, error_length, "a lossy transfer syntax (" + uid + ") needs a new SOP Instance UID, not allowed here");
            return CDICOM_TRANSCODE_FAILED;
        }
        // Decoding and encoding hold the pixel data up to three times (compressed, uncompressed, re-encoded).
        DcmElement *pixels = nullptr;
        long long estimate = 0;
        if (dataset->findAndGetElement(DCM_PixelData, pixels).good() && pixels != nullptr) {
            // Each factor is at most 16 bits, frames at most 31: no overflow in 128 bits; capped at 1 TiB.
            const unsigned __int128 frame = static_cast<unsigned __int128>(attribute(dataset, DCM_Rows, 0)) *
                                            attribute(dataset, DCM_Columns, 0) * attribute(dataset, DCM_SamplesPerPixel, 1) *
                                            ((attribute(dataset, DCM_BitsAllocated, 8) + 7) / 8);
            Sint32 frames = 1;
            if (dataset->findAndGetSint32(DCM_NumberOfFrames, frames).bad() || frames < 1) frames = 1;
            const unsigned __int128 total = 3 * (frame * static_cast<unsigned>(frames) + pixels->getLength());
            const unsigned __int128 cap = static_cast<unsigned __int128>(1) << 40;
            if (total > cap) {
                copyError(error, error_length, "the pixel data is too large to transcode");
                return CDICOM_TRANSCODE_FAILED;
            }
            estimate = static_cast<long long>(total);
        }
        tessera::Reservation reservation;
        if (!reservation.grow(tessera::ParseBudget::shared(), estimate, tessera::ParseBudget::defaultWait)) {
            copyError(error, error_length, "too many files being transcoded at once: no memory for this one now");
            return CDICOM_TRANSCODE_BUSY;
        }
        // DCMTK 3.6.7's IJG encoders take the samples' low BitsStored bits whatever HighBit says: pixel data stored
        // higher (HighBit 15 with BitsStored 12) would come out changed from a "lossless" JPEG (stock Orthanc writes
        // such files). Refused instead.
        const bool ijg = syntax == EXS_JPEGProcess1 || syntax == EXS_JPEGProcess2_4 || syntax == EXS_JPEGProcess14 ||
                         syntax == EXS_JPEGProcess14SV1;
        if (ijg && dataset->tagExists(DCM_HighBit) && hasBitsStored &&
            attribute(dataset, DCM_HighBit, 0) + 1 != bitsStored) {
            copyError(error, error_length, "pixel data stored above bit " + std::to_string(bitsStored) + " (HighBit " +
                                               std::to_string(attribute(dataset, DCM_HighBit, 0)) + "): the JPEG encoder would lose it");
            return CDICOM_TRANSCODE_FAILED;
        }
        // DCMTK 3.6.7's JPEG-LS encoder (CharLS) aborts the process on a sample wider than BitsStored (signed data
        // sign-extended over BitsAllocated, bits above HighBit set): the uncompressed samples of every pixel data
        // element (icons in sequences included) are checked first, and such a file refused.
        if ((syntax == EXS_JPEGLSLossless || syntax == EXS_JPEGLSLossy) && pixels != nullptr) {
            if (dataset->chooseRepresentation(EXS_LittleEndianExplicit, nullptr).bad()) {
                dataset->chooseRepresentation(source, nullptr);
                copyError(error, error_length, std::string("cannot decode the pixel data of ") + DcmXfer(source).getXferID());
                return CDICOM_TRANSCODE_FAILED;
            }
            std::string problem;
            DcmStack stack;
            unsigned found = 0;
            for (OFCondition status = dataset->search(DCM_PixelData, stack, ESM_fromHere, OFTrue);
                 status.good() && problem.empty(); status = dataset->search(DCM_PixelData, stack, ESM_afterStackTop, OFTrue)) {
                DcmElement *native = dynamic_cast<DcmElement *>(stack.top());
                // The stack holds the path to the element; at the top level it may hold the element alone.
                DcmItem *owner = stack.card() > 1 ? dynamic_cast<DcmItem *>(stack.elem(1)) : dataset;
                if (native == nullptr || owner == nullptr) {
                    problem = "pixel data that cannot be checked";
                    break;
                }
                found++;
                problem = samplesBeyondBitsStored(owner, native);
            }
            if (problem.empty() && found == 0) problem = "the pixel data was not found after decoding";
            if (!problem.empty()) {
                // Back to the representation the file had (DCMTK keeps it), so that it can be written as it was.
                dataset->chooseRepresentation(source, nullptr);
                copyError(error, error_length, problem + ": not encodable as " + uid);
                return CDICOM_TRANSCODE_FAILED;
            }
        }
        OFString original;
        dataset->findAndGetOFString(DCM_SOPInstanceUID, original);
        OFCondition chosen = dataset->chooseRepresentation(syntax, parameter.get());
        if (chosen.bad() || !dataset->canWriteXfer(syntax)) {
            dataset->chooseRepresentation(source, nullptr);
            copyError(error, error_length, std::string("cannot transcode from ") + DcmXfer(source).getXferID() + " to " + uid +
                                               (chosen.bad() ? std::string(": ") + chosen.text() : std::string()));
            return CDICOM_TRANSCODE_FAILED;
        }
        // DCMTK's JPEG-LS encoder leaves the byte that pads an odd-length fragment uninitialised: zero it (PS 3.5
        // A.4), so that the same input always gives the same file.
        DcmElement *encoded = nullptr;
        if (DcmXfer(syntax).isEncapsulated() && dataset->findAndGetElement(DCM_PixelData, encoded).good() && encoded != nullptr) {
            DcmPixelSequence *sequence = nullptr;
            DcmPixelData *data = dynamic_cast<DcmPixelData *>(encoded);
            if (data != nullptr && data->getEncapsulatedRepresentation(syntax, parameter.get(), sequence).good() &&
                sequence != nullptr) {
                for (unsigned long i = 1; i < sequence->card(); i++) {
                    DcmPixelItem *item = nullptr;
                    Uint8 *fragment = nullptr;
                    if (sequence->getItem(item, i).bad() || item == nullptr || item->getUint8Array(fragment).bad() ||
                        fragment == nullptr) {
                        continue;
                    }
                    const Uint32 size = item->getLength();
                    if (size >= 3 && fragment[size - 3] == 0xFF && fragment[size - 2] == 0xD9) fragment[size - 1] = 0;
                }
            }
        }
        // A modification job keeps its own new UID even when the encoder made another one (as Orthanc's jobs do).
        if (allow_new_uid == 2 && !original.empty()) dataset->putAndInsertString(DCM_SOPInstanceUID, original.c_str(), OFTrue);
        // Written in the new syntax by cdicom_file_save (a deflated syntax is only a way of writing).
        dataset->updateOriginalXfer();
        file->writeSyntax = syntax;
        return CDICOM_TRANSCODE_DONE;
    });
}
