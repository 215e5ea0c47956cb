// Sending one stored DICOM file with C-STORE on an established association, as both the SCU's associations (jobs)
// and the C-GET SCP's sub-operations (on the requester's own association) do. Not part of the C API.
#ifndef TESSERA_CDICOM_STOREFILE_HPP
#define TESSERA_CDICOM_STOREFILE_HPP

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dctk.h"
#include "dcmtk/dcmnet/dimse.h"

#include <functional>
#include <string>

namespace tessera {

/// The accepted presentation context of (SOP class, transfer syntax), 0 when none.
using ContextFinder = std::function<T_ASC_PresentationContextID(const std::string &, const std::string &)>;

/// How a C-STORE request is sent.
struct StoreParameters {
    Uint16 messageID = 1;
    /// Empty: no Move Originator attributes.
    std::string moveOriginatorAET;
    Uint16 moveOriginatorID = 0;
    T_DIMSE_BlockingMode mode = DIMSE_BLOCKING;
    int timeout = 0;
    /// Whether a file may be decompressed to an accepted uncompressed syntax when its own was not accepted.
    bool transcode = true;
};

/// Sends the file at `path` in its own transfer syntax when an accepted context has it, else decompressed to an
/// accepted uncompressed syntax. Returns one of the CDICOM_SCU_ codes: CDICOM_SCU_ANSWERED with `status`, otherwise
/// `error` says why (CDICOM_SCU_NETWORK: the association can no longer be used).
int storeFile(T_ASC_Association *association, const ContextFinder &find, const char *path,
              const StoreParameters &parameters, Uint16 &status, std::string &error);

}  // namespace tessera

#endif
