// JPEG 2000 decoding through OpenJPEG (Debian's libopenjp2), which DCMTK 3.6.7 lacks: the image routes decode
// JPEG 2000 frames (transfer syntaxes 1.2.840.10008.1.2.4.90 and .91) where Orthanc's core cannot.
#include "include/cdicom.h"
#include "budget.hpp"
#include "internal.hpp"

#include <openjpeg-2.5/openjpeg.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

using tessera::copyError;
using tessera::guarded;

struct MemoryStream {
    const uint8_t *bytes;
    size_t length;
    size_t position;
};

OPJ_SIZE_T readStream(void *buffer, OPJ_SIZE_T count, void *user) {
    MemoryStream *stream = static_cast<MemoryStream *>(user);
    if (stream->position >= stream->length) return static_cast<OPJ_SIZE_T>(-1);
    OPJ_SIZE_T available = std::min<OPJ_SIZE_T>(count, stream->length - stream->position);
    std::memcpy(buffer, stream->bytes + stream->position, available);
    stream->position += available;
    return available;
}

OPJ_OFF_T skipStream(OPJ_OFF_T count, void *user) {
    MemoryStream *stream = static_cast<MemoryStream *>(user);
    if (count < 0) {
        OPJ_OFF_T back = std::min<OPJ_OFF_T>(-count, static_cast<OPJ_OFF_T>(stream->position));
        stream->position -= static_cast<size_t>(back);
        return -back;
    }
    OPJ_OFF_T forward = std::min<OPJ_OFF_T>(count, static_cast<OPJ_OFF_T>(stream->length - stream->position));
    stream->position += static_cast<size_t>(forward);
    return forward;
}

OPJ_BOOL seekStream(OPJ_OFF_T position, void *user) {
    MemoryStream *stream = static_cast<MemoryStream *>(user);
    if (position < 0 || static_cast<size_t>(position) > stream->length) return OPJ_FALSE;
    stream->position = static_cast<size_t>(position);
    return OPJ_TRUE;
}

void recordError(const char *message, void *user) {
    std::string *text = static_cast<std::string *>(user);
    if (text->empty() && message != nullptr) {
        *text = message;
        while (!text->empty() && (text->back() == '\n' || text->back() == ' ')) text->pop_back();
    }
}

void ignoreMessage(const char *, void *) {}

/// Frees OpenJPEG's objects however the decoding ends.
struct Decoding {
    opj_codec_t *codec = nullptr;
    opj_stream_t *stream = nullptr;
    opj_image_t *image = nullptr;
    ~Decoding() {
        if (image != nullptr) opj_image_destroy(image);
        if (stream != nullptr) opj_stream_destroy(stream);
        if (codec != nullptr) opj_destroy_codec(codec);
    }
};

}  // namespace

int cdicom_j2k_decode(const uint8_t *bytes, size_t length, int sample_bytes, uint32_t expected_width,
                      uint32_t expected_height, cdicom_j2k_image *out, char *error, size_t error_length) {
    if (bytes == nullptr || out == nullptr || length < 4 || (sample_bytes != 1 && sample_bytes != 2)) {
        copyError(error, error_length, "no JPEG 2000 codestream");
        return 0;
    }
    *out = cdicom_j2k_image{};
    return guarded<int>(0, error, error_length, [&]() -> int {
        // A raw codestream starts with SOC + SIZ (FF 4F FF 51); anything else is tried as a JP2 file.
        bool raw = bytes[0] == 0xFF && bytes[1] == 0x4F && bytes[2] == 0xFF && bytes[3] == 0x51;
        Decoding decoding;
        std::string message;
        decoding.codec = opj_create_decompress(raw ? OPJ_CODEC_J2K : OPJ_CODEC_JP2);
        if (decoding.codec == nullptr) return copyError(error, error_length, "OpenJPEG unavailable"), 0;
        opj_set_error_handler(decoding.codec, recordError, &message);
        opj_set_warning_handler(decoding.codec, ignoreMessage, nullptr);
        opj_set_info_handler(decoding.codec, ignoreMessage, nullptr);
        opj_dparameters_t parameters;
        opj_set_default_decoder_parameters(&parameters);
        if (!opj_setup_decoder(decoding.codec, &parameters)) return copyError(error, error_length, "OpenJPEG setup failed"), 0;
        MemoryStream source{bytes, length, 0};
        decoding.stream = opj_stream_create(OPJ_J2K_STREAM_CHUNK_SIZE, OPJ_TRUE);
        if (decoding.stream == nullptr) return copyError(error, error_length, "out of memory"), 0;
        opj_stream_set_user_data(decoding.stream, &source, nullptr);
        opj_stream_set_user_data_length(decoding.stream, length);
        opj_stream_set_read_function(decoding.stream, readStream);
        opj_stream_set_skip_function(decoding.stream, skipStream);
        opj_stream_set_seek_function(decoding.stream, seekStream);
        if (!opj_read_header(decoding.stream, decoding.codec, &decoding.image) || decoding.image == nullptr) {
            copyError(error, error_length, "JPEG 2000 header unreadable: " + message);
            return 0;
        }
        opj_image_t *image = decoding.image;
        if (image->numcomps != 1 && image->numcomps != 3) {
            copyError(error, error_length, "JPEG 2000 image of " + std::to_string(image->numcomps) + " components");
            return 0;
        }
        unsigned long long width = image->x1 - image->x0, height = image->y1 - image->y0;
        if (width == 0 || height == 0 || width != expected_width || height != expected_height) {
            copyError(error, error_length, "the JPEG 2000 image is " + std::to_string(width) + "x" + std::to_string(height) +
                                               ", not the Columns x Rows of the instance");
            return 0;
        }
        // OpenJPEG holds every sample as a 32-bit integer, besides the output.
        tessera::Reservation reservation;
        if (!reservation.grow(tessera::ParseBudget::shared(), static_cast<long long>(width * height * image->numcomps * (4 + sample_bytes)),
                              tessera::ParseBudget::defaultWait)) {
            copyError(error, error_length, "too many images being decoded at once: no memory for this one now");
            return 0;
        }
        if (!opj_decode(decoding.codec, decoding.stream, image) || !opj_end_decompress(decoding.codec, decoding.stream)) {
            copyError(error, error_length, "JPEG 2000 stream does not decode: " + message);
            return 0;
        }
        for (OPJ_UINT32 c = 0; c < image->numcomps; c++) {
            const opj_image_comp_t &component = image->comps[c];
            if (component.data == nullptr || component.w != width || component.h != height || component.prec > 8u * sample_bytes ||
                component.prec > 16) {
                copyError(error, error_length, "JPEG 2000 components of different sizes or deeper than BitsAllocated");
                return 0;
            }
        }
        size_t count = static_cast<size_t>(width * height);
        size_t size = count * image->numcomps * sample_bytes;
        uint8_t *samples = static_cast<uint8_t *>(std::malloc(size));
        if (samples == nullptr) return copyError(error, error_length, "out of memory"), 0;
        size_t offset = 0;
        for (size_t pixel = 0; pixel < count; pixel++) {
            for (OPJ_UINT32 c = 0; c < image->numcomps; c++) {
                int32_t value = image->comps[c].data[pixel];
                if (sample_bytes == 1) {
                    samples[offset++] = static_cast<uint8_t>(value & 0xFF);
                } else {
                    samples[offset++] = static_cast<uint8_t>(value & 0xFF);
                    samples[offset++] = static_cast<uint8_t>((value >> 8) & 0xFF);
                }
            }
        }
        out->width = static_cast<uint32_t>(width);
        out->height = static_cast<uint32_t>(height);
        out->components = image->numcomps;
        out->precision = image->comps[0].prec;
        out->is_signed = image->comps[0].sgnd ? 1 : 0;
        out->bytes = samples;
        out->length = size;
        return 1;
    });
}
