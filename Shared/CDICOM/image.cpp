// One frame of a parsed file's pixel data, uncompressed by DCMTK's codecs (JPEG, JPEG-LS, RLE, registered by
// cdicom_global_init), and JPEG output through libjpeg (libjpeg-turbo) for the image routes.
#include "include/cdicom.h"
#include "budget.hpp"
#include "file.hpp"
#include "internal.hpp"

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dccodec.h"
#include "dcmtk/dcmdata/dctk.h"

#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <jpeglib.h>

namespace {

using tessera::copyError;
using tessera::guarded;

/// The largest frame decoded (bytes once uncompressed): 1 GiB.
constexpr Uint32 maxFrameBytes = 1u << 30;

Uint16 uint16Of(DcmItem *dataset, const DcmTagKey &key, Uint16 fallback) {
    Uint16 value = 0;
    return dataset->findAndGetUint16(key, value).good() ? value : fallback;
}

void copyString(DcmItem *dataset, const DcmTagKey &key, char *target, size_t length) {
    OFString value;
    target[0] = '\0';
    if (dataset->findAndGetOFString(key, value).good()) copyError(target, length, value.c_str());
}

}  // namespace

int cdicom_file_frame(cdicom_file *file, uint32_t index, cdicom_frame *frame, char *error, size_t error_length) {
    if (file == nullptr || frame == nullptr) return CDICOM_FRAME_UNSUPPORTED;
    *frame = cdicom_frame{};
    return guarded<int>(CDICOM_FRAME_BUSY, error, error_length, [&]() -> int {
        DcmDataset *dataset = file->format.getDataset();
        DcmElement *element = nullptr;
        if (dataset->findAndGetElement(DCM_PixelData, element).bad() || element == nullptr) {
            copyError(error, error_length, "the instance has no pixel data");
            return CDICOM_FRAME_NO_PIXELS;
        }
        DcmPixelData *pixels = dynamic_cast<DcmPixelData *>(element);
        if (pixels == nullptr) {
            copyError(error, error_length, "the pixel data element is not pixel data (VR UN?)");
            return CDICOM_FRAME_UNSUPPORTED;
        }
        frame->rows = uint16Of(dataset, DCM_Rows, 0);
        frame->columns = uint16Of(dataset, DCM_Columns, 0);
        frame->samples_per_pixel = uint16Of(dataset, DCM_SamplesPerPixel, 1);
        frame->bits_allocated = uint16Of(dataset, DCM_BitsAllocated, 0);
        frame->bits_stored = uint16Of(dataset, DCM_BitsStored, frame->bits_allocated);
        frame->high_bit = uint16Of(dataset, DCM_HighBit, frame->bits_stored == 0 ? 0 : frame->bits_stored - 1);
        frame->pixel_representation = uint16Of(dataset, DCM_PixelRepresentation, 0);
        frame->planar_configuration = uint16Of(dataset, DCM_PlanarConfiguration, 0);
        copyString(dataset, DCM_PhotometricInterpretation, frame->photometric, sizeof(frame->photometric));
        frame->frame_count = 1;
        frame->encapsulated = DcmXfer(dataset->getOriginalXfer()).isEncapsulated() ? 1 : 0;
        copyError(frame->transfer_syntax, sizeof(frame->transfer_syntax), DcmXfer(dataset->getOriginalXfer()).getXferID());
        OFString declared;
        if (dataset->findAndGetOFString(DCM_NumberOfFrames, declared).good()) {
            // As Orthanc: a NumberOfFrames that is not a number makes the image undecodable (not "one frame").
            std::string text(declared.c_str());
            size_t first = text.find_first_not_of(' '), last = text.find_last_not_of(' ');
            text = first == std::string::npos ? "" : text.substr(first, last - first + 1);
            if (text.empty() || text.size() > 9 || text.find_first_not_of("0123456789") != std::string::npos ||
                std::stoul(text) == 0) {
                frame->frame_count = 0;
                copyError(error, error_length, "NumberOfFrames is not a positive number");
                return CDICOM_FRAME_UNSUPPORTED;
            }
            frame->frame_count = static_cast<uint32_t>(std::stoul(text));
        }
        if (frame->rows == 0 || frame->columns == 0 || frame->bits_allocated == 0 || frame->samples_per_pixel == 0) {
            copyError(error, error_length, "Rows, Columns, BitsAllocated or SamplesPerPixel missing or zero");
            return CDICOM_FRAME_UNSUPPORTED;
        }
        E_TransferSyntax syntax = dataset->getOriginalXfer();
        if (frame->encapsulated && !DcmCodecList::canChangeCoding(syntax, EXS_LittleEndianExplicit)) {
            copyError(error, error_length, std::string("no decoder for ") + DcmXfer(syntax).getXferID());
            return CDICOM_FRAME_UNSUPPORTED;
        }
        if (index >= frame->frame_count) {
            copyError(error, error_length, "no such frame");
            return CDICOM_FRAME_OUT_OF_RANGE;
        }
        Uint32 size = 0;
        unsigned long long expected = static_cast<unsigned long long>(frame->rows) * frame->columns *
                                      frame->samples_per_pixel * frame->bits_allocated;
        if (expected / 8 >= maxFrameBytes || pixels->getUncompressedFrameSize(dataset, size).bad() || size == 0 ||
            size >= maxFrameBytes) {
            copyError(error, error_length, "frame size out of range");
            return CDICOM_FRAME_UNSUPPORTED;
        }
        // Native data must hold the frame before anything is allocated for it (a forged Rows × Columns over a few
        // bytes must not cost a gigabyte).
        if (!frame->encapsulated &&
            static_cast<unsigned long long>(pixels->getLength()) < (static_cast<unsigned long long>(index) + 1) * size) {
            copyError(error, error_length, "the pixel data is shorter than its attributes say");
            return CDICOM_FRAME_CORRUPT;
        }
        // Twice the frame: the decoder's own buffers besides the output.
        tessera::Reservation reservation;
        if (!reservation.grow(tessera::ParseBudget::shared(), 2LL * size, tessera::ParseBudget::defaultWait)) {
            copyError(error, error_length, "too many images being decoded at once: no memory for this one now");
            return CDICOM_FRAME_BUSY;
        }
        // Even length: DCMTK reads native 16-bit words whole.
        Uint32 capacity = size + (size & 1);
        uint8_t *buffer = static_cast<uint8_t *>(std::calloc(1, capacity));
        if (buffer == nullptr) {
            copyError(error, error_length, "out of memory");
            return CDICOM_FRAME_BUSY;
        }
        Uint32 fragment = 0;
        OFString model;
        OFCondition status = pixels->getUncompressedFrame(dataset, index, fragment, buffer, capacity, model);
        if (status.bad()) {
            std::free(buffer);
            copyError(error, error_length, std::string("cannot decode the frame: ") + status.text());
            return CDICOM_FRAME_CORRUPT;
        }
        copyError(frame->color_model, sizeof(frame->color_model), model.c_str());
        frame->bytes = buffer;
        frame->length = size;
        return CDICOM_FRAME_OK;
    });
}

namespace {

struct JpegFailure {
    jpeg_error_mgr manager;
    std::jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
    /// The output buffer, in memory (not a register) so that it survives the longjmp.
    unsigned char *output;
    unsigned long size;
};

void jpegFailed(j_common_ptr info) {
    JpegFailure *failure = reinterpret_cast<JpegFailure *>(info->err);
    (*info->err->format_message)(info, failure->message);
    std::longjmp(failure->jump, 1);
}

}  // namespace

int cdicom_jpeg_encode(const uint8_t *pixels, uint32_t width, uint32_t height, int channels, int quality,
                       uint8_t **bytes, size_t *length, char *error, size_t error_length) {
    if (pixels == nullptr || bytes == nullptr || length == nullptr || (channels != 1 && channels != 3) || width == 0 ||
        height == 0 || width > JPEG_MAX_DIMENSION || height > JPEG_MAX_DIMENSION) {
        copyError(error, error_length, "image not encodable as JPEG");
        return 0;
    }
    return guarded<int>(0, error, error_length, [&]() -> int {
        // Plain C from here on: libjpeg reports failures by longjmp, which crosses no object with a destructor.
        jpeg_compress_struct info{};
        JpegFailure failure{};
        info.err = jpeg_std_error(&failure.manager);
        failure.manager.error_exit = jpegFailed;
        if (setjmp(failure.jump) != 0) {
            jpeg_destroy_compress(&info);
            std::free(failure.output);
            copyError(error, error_length, failure.message);
            return 0;
        }
        jpeg_create_compress(&info);
        jpeg_mem_dest(&info, &failure.output, &failure.size);
        info.image_width = width;
        info.image_height = height;
        info.input_components = channels;
        info.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
        jpeg_set_defaults(&info);
        jpeg_set_quality(&info, quality, TRUE);
        jpeg_start_compress(&info, TRUE);
        const size_t pitch = static_cast<size_t>(width) * channels;
        while (info.next_scanline < info.image_height) {
            JSAMPROW row = const_cast<JSAMPROW>(pixels + info.next_scanline * pitch);
            jpeg_write_scanlines(&info, &row, 1);
        }
        jpeg_finish_compress(&info);
        jpeg_destroy_compress(&info);
        *bytes = failure.output;
        *length = failure.size;
        return 1;
    });
}
