// The parsed file behind the C API's cdicom_file, shared by the C++ files of the shim. Not part of the C API.
#ifndef TESSERA_CDICOM_FILE_HPP
#define TESSERA_CDICOM_FILE_HPP

#include "budget.hpp"

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcfilefo.h"

struct cdicom_file {
    /// The parse's share of the process's parse budget, held as long as the file is (declared before `format`, so
    /// given back only once the dataset is freed).
    tessera::Reservation reservation;
    DcmFileFormat format;
    /// The transfer syntax cdicom_file_save writes, once cdicom_file_transcode chose one (else the dataset's own).
    E_TransferSyntax writeSyntax = EXS_Unknown;

    cdicom_file() = default;
    /// Takes ownership of a received dataset.
    explicit cdicom_file(DcmDataset *dataset) : format(dataset, OFFalse) {}
};

#endif
