// DICOM TLS of outbound associations: see tls.hpp.
#include "tls.hpp"

#include <string>

namespace tessera {

namespace {

std::string reason(const char *what, const char *file, const OFCondition &condition) {
    return std::string(what) + " " + (file == nullptr ? "" : file) + ": " +
           (condition.text() == nullptr ? "unknown error" : condition.text());
}

}  // namespace

std::string OutboundTLS::prepare(const cdicom_tls *tls) {
    layer.reset();
    if (tls == nullptr) return std::string();
    if (tls->certificate == nullptr || *tls->certificate == 0 || tls->private_key == nullptr || *tls->private_key == 0) {
        return "DICOM TLS needs DicomTlsCertificate and DicomTlsPrivateKey";
    }
    auto created = std::make_unique<DcmTLSTransportLayer>(NET_REQUESTOR, nullptr, OFFalse);
    OFCondition status = created->setTLSProfile(TSP_Profile_BCP195);
    if (status.good()) status = created->activateCipherSuites();
    if (status.bad()) return reason("cannot set the TLS profile", nullptr, status);
    status = created->setPrivateKeyFile(tls->private_key, DCF_Filetype_PEM);
    if (status.bad()) return reason("cannot read the private key", tls->private_key, status);
    status = created->setCertificateFile(tls->certificate, DCF_Filetype_PEM);
    if (status.bad()) return reason("cannot read the certificate", tls->certificate, status);
    if (!created->checkPrivateKeyMatchesCertificate()) {
        return std::string("the private key ") + tls->private_key + " does not match the certificate " + tls->certificate;
    }
    if (tls->trusted_certificates != nullptr && *tls->trusted_certificates != 0) {
        status = created->addTrustedCertificateFile(tls->trusted_certificates, DCF_Filetype_PEM);
        if (status.bad()) return reason("cannot read the trusted certificates", tls->trusted_certificates, status);
    }
    created->setCertificateVerification(tls->remote_certificate_required != 0 ? DCV_requireCertificate : DCV_ignoreCertificate);
    layer = std::move(created);
    return std::string();
}

void initializeTLS() { DcmTLSTransportLayer::initializeOpenSSL(); }

}  // namespace tessera
