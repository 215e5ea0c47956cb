// PNG and JPEG readers for /tools/create-dicom, with Orthanc's rules (PngReader, JpegReader): plain C below the
// setjmp of each library, so that a longjmp crosses no object with a destructor.
#include "include/cdicom.h"
#include "internal.hpp"

#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <jpeglib.h>
#include <png.h>

using tessera::copyError;

namespace {

struct PngInput {
    const uint8_t *bytes;
    size_t length;
    size_t position;
};

struct PngFailure {
    char message[256];
};

void pngRead(png_structp png, png_bytep out, png_size_t count) {
    PngInput *input = static_cast<PngInput *>(png_get_io_ptr(png));
    if (input->position + count > input->length) {
        png_error(png, "truncated PNG file");
    }
    std::memcpy(out, input->bytes + input->position, count);
    input->position += count;
}

void pngFailed(png_structp png, png_const_charp message) {
    PngFailure *failure = static_cast<PngFailure *>(png_get_error_ptr(png));
    std::snprintf(failure->message, sizeof(failure->message), "%s", message);
    png_longjmp(png, 1);
}

void pngWarned(png_structp, png_const_charp) {}

struct JpegReadFailure {
    jpeg_error_mgr manager;
    std::jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
};

void jpegReadFailed(j_common_ptr info) {
    JpegReadFailure *failure = reinterpret_cast<JpegReadFailure *>(info->err);
    (*info->err->format_message)(info, failure->message);
    std::longjmp(failure->jump, 1);
}

void jpegWarned(j_common_ptr, int) {}

}  // namespace

int cdicom_png_decode(const uint8_t *bytes, size_t length, uint64_t max_pixels, uint32_t *width, uint32_t *height,
                      int *layout, uint8_t **pixels, size_t *pixels_length, char *error, size_t error_length) {
    if (bytes == nullptr || length < 8 || png_sig_cmp(const_cast<png_bytep>(bytes), 0, 8) != 0) {
        copyError(error, error_length, "not a PNG file");
        return CDICOM_DECODE_BAD_FILE;
    }
    PngFailure failure{};
    PngInput input{bytes, length, 8};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &failure, pngFailed, pngWarned);
    if (png == nullptr) {
        copyError(error, error_length, "out of memory");
        return CDICOM_DECODE_BAD_FILE;
    }
    png_infop info = png_create_info_struct(png);
    // Volatile: read after a longjmp.
    uint8_t *volatile buffer = nullptr;
    png_bytep *volatile rows = nullptr;
    if (info == nullptr || setjmp(png_jmpbuf(png)) != 0) {
        png_destroy_read_struct(&png, info == nullptr ? nullptr : &info, nullptr);
        std::free(buffer);
        std::free(rows);
        copyError(error, error_length, failure.message[0] != 0 ? failure.message : "damaged PNG file");
        return CDICOM_DECODE_BAD_FILE;
    }
    png_set_read_fn(png, &input, pngRead);
    png_set_sig_bytes(png, 8);
    png_read_info(png, info);
    png_uint_32 w = 0, h = 0;
    int depth = 0, colour = 0;
    png_get_IHDR(png, info, &w, &h, &depth, &colour, nullptr, nullptr, nullptr);
    int format = 0;
    size_t bytesPerPixel = 0;
    if (colour == PNG_COLOR_TYPE_GRAY && depth == 8) {
        format = CDICOM_PIXELS_GRAYSCALE8;
        bytesPerPixel = 1;
    } else if (colour == PNG_COLOR_TYPE_GRAY && depth == 16) {
        format = CDICOM_PIXELS_GRAYSCALE16;
        bytesPerPixel = 2;
        png_set_swap(png);  // PNG is big-endian; the pixels are kept in host (little-endian) order
    } else if (colour == PNG_COLOR_TYPE_RGB && depth == 8) {
        format = CDICOM_PIXELS_RGB24;
        bytesPerPixel = 3;
    } else if (colour == PNG_COLOR_TYPE_RGBA && depth == 8) {
        format = CDICOM_PIXELS_RGBA32;
        bytesPerPixel = 4;
    } else {
        png_destroy_read_struct(&png, &info, nullptr);
        std::snprintf(error, error_length, "PNG images of colour type %d with %d bits per sample are not supported",
                      colour, depth);
        return CDICOM_DECODE_UNSUPPORTED;
    }
    if (static_cast<uint64_t>(w) * h > max_pixels) {
        png_destroy_read_struct(&png, &info, nullptr);
        copyError(error, error_length, "PNG image too large");
        return CDICOM_DECODE_TOO_LARGE;
    }
    const size_t pitch = static_cast<size_t>(w) * bytesPerPixel;
    if (w > 0 && h > 0) {
        png_read_update_info(png, info);
        buffer = static_cast<uint8_t *>(std::malloc(pitch * h));
        rows = static_cast<png_bytep *>(std::malloc(sizeof(png_bytep) * h));
        if (buffer == nullptr || rows == nullptr) {
            png_error(png, "out of memory");
        }
        for (png_uint_32 y = 0; y < h; y++) {
            rows[y] = buffer + y * pitch;
        }
        png_read_image(png, rows);
    }
    png_destroy_read_struct(&png, &info, nullptr);
    std::free(rows);
    *width = w;
    *height = h;
    *layout = format;
    *pixels = buffer;
    *pixels_length = pitch * h;
    return CDICOM_DECODE_OK;
}

int cdicom_jpeg_decode(const uint8_t *bytes, size_t length, uint64_t max_pixels, uint32_t *width, uint32_t *height,
                       int *layout, uint8_t **pixels, size_t *pixels_length, char *error, size_t error_length) {
    if (bytes == nullptr || length == 0) {
        copyError(error, error_length, "not a JPEG file");
        return CDICOM_DECODE_BAD_FILE;
    }
    jpeg_decompress_struct info{};
    JpegReadFailure failure{};
    info.err = jpeg_std_error(&failure.manager);
    failure.manager.error_exit = jpegReadFailed;
    failure.manager.emit_message = jpegWarned;
    uint8_t *volatile buffer = nullptr;
    if (setjmp(failure.jump) != 0) {
        jpeg_destroy_decompress(&info);
        std::free(buffer);
        copyError(error, error_length, failure.message);
        return CDICOM_DECODE_BAD_FILE;
    }
    jpeg_create_decompress(&info);
    jpeg_mem_src(&info, bytes, static_cast<unsigned long>(length));
    jpeg_read_header(&info, TRUE);
    if (static_cast<uint64_t>(info.image_width) * info.image_height > max_pixels) {
        jpeg_destroy_decompress(&info);
        copyError(error, error_length, "JPEG image too large");
        return CDICOM_DECODE_TOO_LARGE;
    }
    jpeg_start_decompress(&info);
    int format = 0;
    if (info.output_components == 1 && info.out_color_space == JCS_GRAYSCALE) {
        format = CDICOM_PIXELS_GRAYSCALE8;
    } else if (info.output_components == 3 && info.out_color_space == JCS_RGB) {
        format = CDICOM_PIXELS_RGB24;
    } else {
        jpeg_destroy_decompress(&info);
        copyError(error, error_length, "JPEG images in this colour space are not supported");
        return CDICOM_DECODE_UNSUPPORTED;
    }
    const size_t pitch = static_cast<size_t>(info.output_width) * info.output_components;
    buffer = static_cast<uint8_t *>(std::malloc(pitch * info.output_height + 1));
    if (buffer == nullptr) {
        jpeg_destroy_decompress(&info);
        copyError(error, error_length, "out of memory");
        return CDICOM_DECODE_TOO_LARGE;
    }
    while (info.output_scanline < info.output_height) {
        JSAMPROW row = buffer + info.output_scanline * pitch;
        jpeg_read_scanlines(&info, &row, 1);
    }
    jpeg_finish_decompress(&info);
    *width = info.output_width;
    *height = info.output_height;
    *layout = format;
    *pixels = buffer;
    *pixels_length = pitch * info.output_height;
    jpeg_destroy_decompress(&info);
    return CDICOM_DECODE_OK;
}
