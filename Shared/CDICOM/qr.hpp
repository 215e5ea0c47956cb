// The state of one C-FIND, C-MOVE or C-GET request being answered by the SCP (see cdicom_qr_ in cdicom.h). Not part
// of the C API.
#ifndef TESSERA_CDICOM_QR_HPP
#define TESSERA_CDICOM_QR_HPP

#include "include/cdicom.h"

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dctk.h"
#include "dcmtk/dcmnet/dimse.h"

#include <string>

struct cdicom_qr {
    T_ASC_Association *association = nullptr;
    T_ASC_PresentationContextID presentation = 0;
    T_DIMSE_BlockingMode mode = DIMSE_BLOCKING;
    int timeout = 0;
    int command = 0;
    T_DIMSE_C_FindRQ find;
    T_DIMSE_C_MoveRQ move;
    T_DIMSE_C_GetRQ get;
    /// The request's identifier (the VRs of the attributes answered).
    DcmDataset *identifier = nullptr;
    /// Message IDs of the C-GET sub-operations.
    Uint16 nextMessageID = 1;
    bool finished = false;
    bool broken = false;
    bool canceled = false;

    cdicom_qr() {
        std::memset(&find, 0, sizeof(find));
        std::memset(&move, 0, sizeof(move));
        std::memset(&get, 0, sizeof(get));
    }
};

namespace tessera {

/// Answers a request the callback left unfinished: 0xC000 ("unable to process").
void finishUnanswered(cdicom_qr &qr);

}  // namespace tessera

#endif
