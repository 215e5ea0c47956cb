// Datasets as DICOM files in memory, for handing to Swift. Not part of the C API.
#ifndef TESSERA_CDICOM_ENCODE_HPP
#define TESSERA_CDICOM_ENCODE_HPP

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dctk.h"

#include <cstdint>
#include <vector>

namespace tessera {

/// `dataset` as a DICOM file (meta header, explicit VR little endian) in `bytes`; false when it cannot be written.
bool encodeDataset(DcmDataset *dataset, std::vector<uint8_t> &bytes);

}  // namespace tessera

#endif
