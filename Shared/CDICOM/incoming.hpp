// Receiving the dataset of a C-STORE request into a file, as the SCP (incoming associations) and the C-GET SCU (the
// C-STOREs of a retrieve) both do. Not part of the C API.
#ifndef TESSERA_CDICOM_INCOMING_HPP
#define TESSERA_CDICOM_INCOMING_HPP

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dctk.h"
#include "dcmtk/dcmnet/dimse.h"

#include <string>

namespace tessera {

/// A file being received under an incoming folder: closed, and removed unless handed on, whatever happens (an
/// exception from DCMTK included).
struct IncomingFile {
    std::string path;
    int descriptor = -1;
    bool handedOn = false;
    IncomingFile() = default;
    IncomingFile(const IncomingFile &) = delete;
    IncomingFile &operator=(const IncomingFile &) = delete;
    ~IncomingFile();
    /// Creates a new file named `{prefix}-{pid}-{sequence}-{time}.tmp` in `folder`; false when it cannot.
    bool create(const std::string &folder, const char *prefix);
    void close();
};

/// What receiving a dataset into a file gave.
struct ReceivedDataset {
    /// The network outcome: bad when the association can no longer be used (the dataset may have been drained when
    /// only the file failed: `DIMSEC_OUTOFRESOURCES`).
    OFCondition network = EC_Normal;
    /// Whether the file holds the meta header and the whole dataset.
    bool written = false;
    /// The MD5 of the file's bytes in lower-case hexadecimal (computed as they were written); empty when unknown.
    std::string md5;
};

/// Writes the meta header DCMTK's own file receive writes (`DIMSE_createFilestream`), then the dataset of `request`
/// as it arrives on `context` (in `syntax`), to `file`. `source` is the peer's AE title (SourceApplicationEntityTitle).
ReceivedDataset receiveDataset(T_ASC_Association *association, T_DIMSE_BlockingMode mode, int timeout,
                               T_ASC_PresentationContextID context, const T_DIMSE_C_StoreRQ &request,
                               const std::string &syntax, const OFString &source, IncomingFile &file);

}  // namespace tessera

#endif
