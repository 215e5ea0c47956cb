#!/usr/bin/env python3
"""Writes DICOM files covering what the image routes must decode as Orthanc does (and a few that Orthanc 1.10 refuses),
deterministically, into --out: MONOCHROME1/2, 8/16/32-bit, signed, BitsStored below BitsAllocated with and without a
high-bit shift, garbage above the stored bits, RGB interleaved and planar, multi-frame with per-frame rescale and VOI
(functional groups), palette colour (16- and 8-bit entries), native YBR_FULL, rescales giving negative fractions,
odd sizes, an Encapsulated PDF, two series for /series/{id}/numpy (by position, by InstanceNumber); then the
compressed variants DCMTK's tools make: JPEG baseline, extended and lossless, JPEG-LS, RLE, big endian, deflated.

usage: make-image-dicom.py --out DIR     (prints the list of files written)
"""
import argparse
import os
import subprocess

import numpy
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

ROOT = "1.2.826.0.1.3680043.10.1199.7."


def base(name, rows, columns, sop_class="1.2.840.10008.5.1.4.1.1.7", series=None, study=None):
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    uid = generate_uid(ROOT, entropy_srcs=[name])
    ds.file_meta.MediaStorageSOPInstanceUID = uid
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = uid
    ds.PatientID = "IMAGES"
    ds.PatientName = "Images^Test"
    ds.StudyInstanceUID = study or generate_uid(ROOT, entropy_srcs=["study"])
    ds.SeriesInstanceUID = series or generate_uid(ROOT, entropy_srcs=["series", name])
    ds.Modality = "OT"
    if rows:
        ds.Rows, ds.Columns = rows, columns
    return ds


def pixels(ds, array, bits_allocated, bits_stored, high_bit, signed, photometric, samples=1, planar=None, frames=None):
    ds.SamplesPerPixel = samples
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = bits_allocated, bits_stored, high_bit
    ds.PixelRepresentation = 1 if signed else 0
    if planar is not None:
        ds.PlanarConfiguration = planar
    if frames is not None:
        ds.NumberOfFrames = frames
    dtype = {8: "u1", 16: "<u2", 32: "<u4"}[bits_allocated]
    ds.PixelData = numpy.ascontiguousarray(array).astype(dtype).tobytes()
    return ds


def gradient(rows, columns, low, high, seed):
    rng = numpy.random.default_rng(seed)
    y, x = numpy.mgrid[0:rows, 0:columns]
    values = low + (high - low) * (x * rows + y) / float(rows * columns)
    return (values + rng.integers(-3, 4, size=(rows, columns))).clip(low, high).astype(numpy.int64)


def write(ds, folder, name, written):
    path = os.path.join(folder, name + ".dcm")
    ds.save_as(path, enforce_file_format=True)
    written.append(path)
    return path


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    folder = parser.parse_args().out
    os.makedirs(folder, exist_ok=True)
    written = []

    # Greyscale, native.
    write(pixels(base("mono2_u8", 48, 64), gradient(48, 64, 0, 255, 1), 8, 8, 7, False, "MONOCHROME2"), folder, "mono2_u8", written)
    ds = pixels(base("mono1_u16_bs12", 40, 30), gradient(40, 30, 0, 4095, 2), 16, 12, 11, False, "MONOCHROME1")
    ds.WindowCenter, ds.WindowWidth = "2000\\1000", "3000\\500"
    write(ds, folder, "mono1_u16_bs12", written)
    garbage = gradient(33, 17, 0, 4095, 3) | (numpy.arange(33 * 17).reshape(33, 17) % 16 << 12)
    write(pixels(base("mono2_u16_bs12_garbage", 33, 17), garbage, 16, 12, 11, False, "MONOCHROME2"), folder, "mono2_u16_bs12_garbage", written)
    write(pixels(base("mono2_u16_shift", 20, 24), gradient(20, 24, 0, 4095, 4) << 4, 16, 12, 15, False, "MONOCHROME2"),
          folder, "mono2_u16_shift", written)
    signed = gradient(32, 32, -2048, 2047, 5)
    ds = pixels(base("mono2_s16_bs12", 32, 32, sop_class="1.2.840.10008.5.1.4.1.1.2"), signed & 0xFFFF, 16, 12, 11, True, "MONOCHROME2")
    ds.RescaleIntercept, ds.RescaleSlope = "-1024", "1"
    ds.WindowCenter, ds.WindowWidth = "40", "400"
    write(ds, folder, "mono2_s16_bs12", written)
    ds = pixels(base("mono2_s16_bs12_hb15", 16, 24), (gradient(16, 24, -2048, 2047, 6) << 4) & 0xFFFF, 16, 12, 15, True, "MONOCHROME2")
    write(ds, folder, "mono2_s16_bs12_hb15", written)
    ds = pixels(base("mono2_s16_fraction", 24, 24, sop_class="1.2.840.10008.5.1.4.1.1.2"), gradient(24, 24, -300, 300, 7) & 0xFFFF,
                16, 16, 15, True, "MONOCHROME2")
    ds.RescaleIntercept, ds.RescaleSlope = "-100.3", "0.37"
    write(ds, folder, "mono2_s16_fraction", written)
    write(pixels(base("mono2_u32", 8, 12), gradient(8, 12, 0, 100000, 8), 32, 32, 31, False, "MONOCHROME2"), folder, "mono2_u32", written)
    write(pixels(base("mono2_u32_bs24", 8, 12), gradient(8, 12, 0, 100000, 8), 32, 24, 23, False, "MONOCHROME2"), folder, "mono2_u32_bs24", written)
    write(pixels(base("mono2_s8", 10, 10), gradient(10, 10, -100, 100, 9) & 0xFF, 8, 8, 7, True, "MONOCHROME2"), folder, "mono2_s8", written)
    write(pixels(base("mono2_u16_bs8", 10, 14), gradient(10, 14, 0, 255, 10), 16, 8, 7, False, "MONOCHROME2"), folder, "mono2_u16_bs8", written)
    write(pixels(base("mono2_flat", 9, 9), numpy.full((9, 9), 77), 16, 16, 15, False, "MONOCHROME2"), folder, "mono2_flat", written)
    write(pixels(base("mono2_odd", 37, 23), gradient(37, 23, 0, 1000, 11), 16, 16, 15, False, "MONOCHROME2"), folder, "mono2_odd", written)

    # Multi-frame with per-frame rescale and window (enhanced functional groups).
    frames = numpy.stack([gradient(16, 20, 0, 4000, 20 + i) for i in range(4)])
    ds = pixels(base("mono2_multiframe", 16, 20, sop_class="1.2.840.10008.5.1.4.1.1.2.1"), frames, 16, 16, 15, False, "MONOCHROME2", frames=4)
    groups = []
    for index in range(4):
        item, transform, voi = Dataset(), Dataset(), Dataset()
        transform.RescaleIntercept, transform.RescaleSlope, transform.RescaleType = str(-1000 + 10 * index), "1.5", "HU"
        voi.WindowCenter, voi.WindowWidth = str(100 * index), str(500 + 100 * index)
        item.PixelValueTransformationSequence = Sequence([transform])
        item.FrameVOILUTSequence = Sequence([voi])
        groups.append(item)
    ds.PerFrameFunctionalGroupsSequence = Sequence(groups)
    write(ds, folder, "mono2_multiframe", written)

    # Colour, native.
    rgb = numpy.stack([gradient(30, 40, 0, 255, 30 + c) for c in range(3)], axis=-1)
    write(pixels(base("rgb", 30, 40), rgb, 8, 8, 7, False, "RGB", samples=3, planar=0), folder, "rgb", written)
    write(pixels(base("rgb_planar", 30, 40), rgb.transpose(2, 0, 1), 8, 8, 7, False, "RGB", samples=3, planar=1), folder, "rgb_planar", written)
    rgb3 = numpy.stack([numpy.roll(rgb, 5 * i, axis=1) for i in range(3)])
    write(pixels(base("rgb_multiframe", 30, 40), rgb3, 8, 8, 7, False, "RGB", samples=3, planar=0, frames=3), folder, "rgb_multiframe", written)
    write(pixels(base("ybr_full", 30, 40), rgb, 8, 8, 7, False, "YBR_FULL", samples=3, planar=0), folder, "ybr_full", written)
    write(pixels(base("rgb48", 6, 8), numpy.stack([gradient(6, 8, 0, 65535, 40 + c) for c in range(3)], axis=-1), 16, 16, 15, False,
                 "RGB", samples=3, planar=0), folder, "rgb48", written)

    # Palette colour.
    indexes = gradient(20, 30, 0, 255, 50)
    for name, bits in [("palette16", 16), ("palette8", 8)]:
        ds = pixels(base(name, 20, 30), indexes, 8, 8, 7, False, "PALETTE COLOR")
        ramp = numpy.arange(256)
        tables = [ramp, 255 - ramp, (ramp * 7) % 256]
        for tag, table in zip(["Red", "Green", "Blue"], tables):
            setattr(ds, tag + "PaletteColorLookupTableDescriptor", [256, 0, bits])
            data = (table * 257).astype("<u2").tobytes() if bits == 16 else table.astype("u1").tobytes()
            setattr(ds, tag + "PaletteColorLookupTableData", data)
        write(ds, folder, name, written)

    # An icon whose samples are wider than its BitsStored (DCMTK's JPEG-LS encoder would abort on it).
    ds = pixels(base("icon_wide", 16, 16), gradient(16, 16, 0, 255, 12), 8, 8, 7, False, "MONOCHROME2")
    icon = pixels(Dataset(), numpy.full((4, 4), 0xFFFF), 16, 8, 7, False, "MONOCHROME2")
    icon.Rows, icon.Columns = 4, 4
    ds.IconImageSequence = Sequence([icon])
    write(ds, folder, "icon_wide", written)

    # Encapsulated PDF (odd length: a padding byte).
    ds = base("pdf", None, None, sop_class="1.2.840.10008.5.1.4.1.1.104.1")
    ds.MIMETypeOfEncapsulatedDocument = "application/pdf"
    ds.EncapsulatedDocument = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF"
    ds.Modality = "DOC"
    write(ds, folder, "pdf", written)

    # Two series for /series/{id}/numpy: slices stored out of order, ordered by position; then by InstanceNumber.
    for series_name, positioned in [("by_position", True), ("by_number", False)]:
        series = generate_uid(ROOT, entropy_srcs=["series-numpy", series_name])
        for index, order in enumerate([2, 0, 3, 1]):
            name = "%s_%d" % (series_name, index)
            ds = pixels(base(name, 12, 10, sop_class="1.2.840.10008.5.1.4.1.1.2", series=series),
                        gradient(12, 10, 0, 2000, 60 + order), 16, 16, 15, True, "MONOCHROME2")
            ds.RescaleIntercept, ds.RescaleSlope = "-1024", "1"
            ds.InstanceNumber = order + 1
            if positioned:
                ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
                ds.ImagePositionPatient = [0, 0, -5.0 * order]
            write(ds, folder, name, written)

    # Compressed and re-encoded variants through DCMTK's tools.
    def convert(tool, options, source, name):
        target = os.path.join(folder, name + ".dcm")
        subprocess.run([tool] + options + [os.path.join(folder, source + ".dcm"), target], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        written.append(target)

    convert("dcmcjpeg", ["+eb"], "mono2_u8", "jpeg_baseline_u8")
    convert("dcmcjpeg", ["+eb"], "rgb", "jpeg_baseline_rgb")
    convert("dcmcjpeg", ["+ee"], "mono1_u16_bs12", "jpeg_extended_bs12")
    convert("dcmcjpeg", ["+e1"], "mono2_s16_bs12", "jpeg_lossless_s16")
    convert("dcmcjpeg", ["+el"], "mono2_multiframe", "jpeg_lossless_multiframe")
    convert("dcmcjpls", ["+el"], "mono2_u16_shift", "jpegls_u16")
    convert("dcmcjpls", ["+el"], "rgb", "jpegls_rgb")
    convert("dcmcjpls", ["+en"], "mono2_odd", "jpegls_near")
    convert("dcmcrle", [], "mono2_s16_bs12", "rle_s16")
    convert("dcmcrle", [], "rgb_multiframe", "rle_rgb_multiframe")
    convert("dcmcrle", [], "ybr_full", "rle_ybr_full")
    convert("dcmcrle", [], "palette16", "rle_palette16")
    convert("dcmconv", ["+tb"], "mono2_s16_bs12", "bigendian_s16")
    convert("dcmconv", ["+tb"], "rgb", "bigendian_rgb")
    convert("dcmconv", ["+td"], "mono1_u16_bs12", "deflated_mono1")
    # A JPEG whose entropy-coded data is damaged half-way (structure intact): decoders must fail cleanly.
    import pydicom
    damaged = pydicom.dcmread(os.path.join(folder, "jpeg_baseline_rgb.dcm"))
    stream = bytearray(next(pydicom.encaps.generate_frames(damaged.PixelData, number_of_frames=1)))
    middle = len(stream) // 2
    stream[middle:middle + 64] = b"\xff\xd9" * 32
    damaged.PixelData = pydicom.encaps.encapsulate([bytes(stream)])
    damaged.SOPInstanceUID = damaged.file_meta.MediaStorageSOPInstanceUID = generate_uid(ROOT, entropy_srcs=["jpeg_damaged"])
    write(damaged, folder, "jpeg_damaged", written)
    print("\n".join(written))


if __name__ == "__main__":
    main()
