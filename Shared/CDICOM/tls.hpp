// DICOM TLS of outbound associations (include/cdicom.h cdicom_tls) over DCMTK's dcmtls (OpenSSL).
#pragma once

#include "include/cdicom.h"

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmtls/tlslayer.h"

#include <memory>
#include <string>

namespace tessera {

/// The TLS layer of one outbound association. It must outlive the association and its network: declare it before
/// them.
struct OutboundTLS {
    std::unique_ptr<DcmTLSTransportLayer> layer;

    /// Builds the layer from `tls` (nothing when NULL): BCP 195 profile, our certificate and key, the trusted
    /// certificates, and whether the peer must present one. Empty on success, else why it cannot be used.
    std::string prepare(const cdicom_tls *tls);
};

/// Initializes OpenSSL once for the process (cdicom_global_init).
void initializeTLS();

}  // namespace tessera
