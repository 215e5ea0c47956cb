// DCMTK 3.6.7 behind the plain-C API of include/cdicom.h.
#include "include/cdicom.h"

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dctk.h"
#include "dcmtk/dcmdata/dcistrmb.h"
#include "dcmtk/dcmdata/dcostrmb.h"
#include "dcmtk/dcmdata/dcrledrg.h"
#include "dcmtk/dcmjpeg/djdecode.h"
#include "dcmtk/dcmjpls/djdecode.h"
#include "dcmtk/dcmnet/diutil.h"
#include "dcmtk/dcmnet/scppool.h"
#include "dcmtk/dcmnet/scu.h"
#include "dcmtk/oflog/oflog.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

struct cdicom_file {
    DcmFileFormat format;
};

namespace {

void copyError(char *error, size_t length, const std::string &message) {
    if (error == nullptr || length == 0) return;
    std::strncpy(error, message.c_str(), length - 1);
    error[length - 1] = '\0';
}

DcmItem *asItem(const cdicom_item *item) {
    return reinterpret_cast<DcmItem *>(const_cast<cdicom_item *>(item));
}

const cdicom_item *fromItem(DcmItem *item) {
    return reinterpret_cast<const cdicom_item *>(item);
}

DcmElement *findElement(const cdicom_item *item, uint16_t group, uint16_t element) {
    if (item == nullptr) return nullptr;
    DcmElement *found = nullptr;
    if (asItem(item)->findAndGetElement(DcmTagKey(group, element), found, OFFalse).bad()) return nullptr;
    return found;
}

char *duplicate(const OFString &value) {
    size_t n = value.length();
    char *out = static_cast<char *>(std::malloc(n + 1));
    if (out == nullptr) return nullptr;
    std::memcpy(out, value.c_str(), n);
    out[n] = '\0';
    return out;
}

}  // namespace

extern "C" {

void cdicom_global_init(int verbose) {
    OFLog::configure(verbose ? OFLogger::INFO_LOG_LEVEL : OFLogger::ERROR_LOG_LEVEL);
    DJDecoderRegistration::registerCodecs();
    DJLSDecoderRegistration::registerCodecs();
    DcmRLEDecoderRegistration::registerCodecs();
}

int cdicom_dictionary_loaded(void) { return dcmDataDict.isDictionaryLoaded() ? 1 : 0; }

void cdicom_free(void *pointer) { std::free(pointer); }

// MARK: - Files and datasets

cdicom_file *cdicom_file_parse(const uint8_t *bytes, size_t length, char *error, size_t error_length) {
    if (bytes == nullptr || length == 0) {
        copyError(error, error_length, "empty input");
        return nullptr;
    }
    cdicom_file *file = new (std::nothrow) cdicom_file();
    if (file == nullptr) {
        copyError(error, error_length, "out of memory");
        return nullptr;
    }
    DcmInputBufferStream stream;
    stream.setBuffer(bytes, static_cast<offile_off_t>(length));
    stream.setEos();
    file->format.transferInit();
    OFCondition status = file->format.read(stream, EXS_Unknown, EGL_noChange, DCM_MaxReadLength);
    file->format.transferEnd();
    if (status.bad()) {
        copyError(error, error_length, status.text());
        delete file;
        return nullptr;
    }
    return file;
}

cdicom_file *cdicom_file_load(const char *path, uint32_t max_read_length, char *error, size_t error_length) {
    cdicom_file *file = new (std::nothrow) cdicom_file();
    if (file == nullptr) {
        copyError(error, error_length, "out of memory");
        return nullptr;
    }
    OFCondition status = file->format.loadFile(OFFilename(path), EXS_Unknown, EGL_noChange,
                                               max_read_length, ERM_autoDetect);
    if (status.bad()) {
        copyError(error, error_length, status.text());
        delete file;
        return nullptr;
    }
    return file;
}

void cdicom_file_free(cdicom_file *file) { delete file; }

const cdicom_item *cdicom_file_dataset(const cdicom_file *file) {
    return file == nullptr ? nullptr : fromItem(const_cast<cdicom_file *>(file)->format.getDataset());
}

const cdicom_item *cdicom_file_meta(const cdicom_file *file) {
    return file == nullptr ? nullptr : fromItem(const_cast<cdicom_file *>(file)->format.getMetaInfo());
}

int cdicom_file_convert_to_utf8(cdicom_file *file, char *error, size_t error_length) {
    OFCondition status = file->format.convertToUTF8();
    if (status.bad()) {
        copyError(error, error_length, status.text());
        return 1;
    }
    return 0;
}

int cdicom_item_contains(const cdicom_item *item, uint16_t group, uint16_t element) {
    return findElement(item, group, element) != nullptr ? 1 : 0;
}

int cdicom_item_vr(const cdicom_item *item, uint16_t group, uint16_t element, char vr[3]) {
    DcmElement *found = findElement(item, group, element);
    if (found == nullptr) return 0;
    DcmVR name(found->getVR());
    const char *text = name.getVRName();
    vr[0] = text[0];
    vr[1] = text[0] == '\0' ? '\0' : text[1];
    vr[2] = '\0';
    return 1;
}

int cdicom_item_string(const cdicom_item *item, uint16_t group, uint16_t element, char **value) {
    DcmElement *found = findElement(item, group, element);
    if (found == nullptr || found->ident() == EVR_SQ) return 0;
    OFString text;
    if (found->getOFStringArray(text).bad()) return 0;
    // Orthanc strips the padding of string values (space, or NUL for UI).
    while (!text.empty() && (text[text.length() - 1] == ' ' || text[text.length() - 1] == '\0')) {
        text.erase(text.length() - 1);
    }
    *value = duplicate(text);
    return *value != nullptr ? 1 : 0;
}

int cdicom_item_float64(const cdicom_item *item, uint16_t group, uint16_t element, unsigned long position,
                        double *value) {
    DcmElement *found = findElement(item, group, element);
    if (found == nullptr) return 0;
    switch (found->ident()) {
    case EVR_FL: {
        Float32 v;
        if (found->getFloat32(v, position).bad()) return 0;
        *value = v;
        return 1;
    }
    case EVR_FD:
    case EVR_DS: {
        Float64 v;
        if (found->getFloat64(v, position).bad()) return 0;
        *value = v;
        return 1;
    }
    default: {
        int64_t v;
        if (!cdicom_item_int64(item, group, element, position, &v)) return 0;
        *value = static_cast<double>(v);
        return 1;
    }
    }
}

int cdicom_item_int64(const cdicom_item *item, uint16_t group, uint16_t element, unsigned long position,
                      int64_t *value) {
    DcmElement *found = findElement(item, group, element);
    if (found == nullptr) return 0;
    switch (found->ident()) {
    case EVR_US: {
        Uint16 v;
        if (found->getUint16(v, position).bad()) return 0;
        *value = v;
        return 1;
    }
    case EVR_SS: {
        Sint16 v;
        if (found->getSint16(v, position).bad()) return 0;
        *value = v;
        return 1;
    }
    case EVR_UL: {
        Uint32 v;
        if (found->getUint32(v, position).bad()) return 0;
        *value = v;
        return 1;
    }
    case EVR_SL:
    case EVR_IS: {
        Sint32 v;
        if (found->getSint32(v, position).bad()) return 0;
        *value = v;
        return 1;
    }
    default:
        return 0;
    }
}

long cdicom_item_sequence_count(const cdicom_item *item, uint16_t group, uint16_t element) {
    DcmElement *found = findElement(item, group, element);
    if (found == nullptr || found->ident() != EVR_SQ) return -1;
    return static_cast<long>(static_cast<DcmSequenceOfItems *>(found)->card());
}

const cdicom_item *cdicom_item_sequence_item(const cdicom_item *item, uint16_t group, uint16_t element,
                                             unsigned long index) {
    DcmElement *found = findElement(item, group, element);
    if (found == nullptr || found->ident() != EVR_SQ) return nullptr;
    DcmSequenceOfItems *sequence = static_cast<DcmSequenceOfItems *>(found);
    if (index >= sequence->card()) return nullptr;
    return fromItem(sequence->getItem(index));
}

}  // extern "C"

// MARK: - Network

namespace {

struct ScpState {
    cdicom_store_callback callback = nullptr;
    void *context = nullptr;
    OFString aeTitle;
    bool checkCalledAET = false;
};

// DcmSCPPool constructs its workers with their default constructor, so workers find the callback here.
ScpState g_scp;
std::atomic<bool> g_scpExists{false};

/// Serializes a received dataset as a Part-10 file in the transfer syntax it arrived in.
bool serialize(DcmFileFormat &format, E_TransferSyntax xfer, std::vector<uint8_t> &buffer, offile_off_t &written) {
    size_t capacity = static_cast<size_t>(format.calcElementLength(xfer, EET_ExplicitLength)) + 4096;
    for (int attempt = 0; attempt < 4; ++attempt) {
        buffer.resize(capacity);
        DcmOutputBufferStream out(buffer.data(), static_cast<offile_off_t>(buffer.size()));
        format.transferInit();
        OFCondition status = format.write(out, xfer, EET_ExplicitLength, nullptr);
        format.transferEnd();
        if (status.good()) {
            void *data = nullptr;
            out.flushBuffer(data, written);
            return data == buffer.data() || written == 0 ? true : (std::memmove(buffer.data(), data, written), true);
        }
        if (status != EC_StreamNotifyClient) return false;
        capacity *= 2;
    }
    return false;
}

class StoreWorker : public DcmThreadSCP {
protected:
    OFBool checkCalledAETitleAccepted(const OFString &calledAE) override {
        return !g_scp.checkCalledAET || calledAE == g_scp.aeTitle;
    }

    OFCondition handleIncomingCommand(T_DIMSE_Message *message, const DcmPresentationContextInfo &info) override {
        if (message->CommandField != DIMSE_C_STORE_RQ) {
            return DcmThreadSCP::handleIncomingCommand(message, info);  // C-ECHO and refusals
        }
        T_DIMSE_C_StoreRQ &request = message->msg.CStoreRQ;
        DcmDataset *dataset = nullptr;
        OFCondition received = receiveSTORERequest(request, info.presentationContextID, dataset);
        if (received.bad()) {
            delete dataset;
            return received;
        }
        Uint16 status = STATUS_STORE_Error_CannotUnderstand;
        if (dataset != nullptr) {
            E_TransferSyntax xfer = dataset->getOriginalXfer();
            if (xfer == EXS_Unknown) xfer = EXS_LittleEndianImplicit;
            DcmFileFormat format(dataset, OFFalse);  // takes ownership of the dataset
            std::vector<uint8_t> buffer;
            offile_off_t written = 0;
            if (format.validateMetaInfo(xfer).good() && serialize(format, xfer, buffer, written)) {
                OFString calling = getPeerAETitle();
                OFString called = getCalledAETitle();
                OFString peer = getPeerIP();
                cdicom_received_instance instance;
                instance.bytes = buffer.data();
                instance.length = static_cast<size_t>(written);
                instance.calling_aet = calling.c_str();
                instance.called_aet = called.c_str();
                instance.peer_ip = peer.c_str();
                instance.sop_class_uid = request.AffectedSOPClassUID;
                instance.sop_instance_uid = request.AffectedSOPInstanceUID;
                status = g_scp.callback(g_scp.context, &instance);
            } else {
                status = STATUS_STORE_Refused_OutOfResources;
            }
        }
        return sendSTOREResponse(info.presentationContextID, request, status);
    }
};

}  // namespace

struct cdicom_scp {
    DcmSCPPool<StoreWorker> pool;
    std::atomic<bool> stopping{false};
};

extern "C" {

cdicom_scp *cdicom_scp_create(const cdicom_scp_options *options, cdicom_store_callback callback, void *context,
                              char *error, size_t error_length) {
    bool expected = false;
    if (!g_scpExists.compare_exchange_strong(expected, true)) {
        copyError(error, error_length, "only one DICOM SCP may run per process");
        return nullptr;
    }
    cdicom_scp *scp = new cdicom_scp();
    g_scp.callback = callback;
    g_scp.context = context;
    g_scp.aeTitle = options->ae_title;
    g_scp.checkCalledAET = options->check_called_aet != 0;

    DcmSCPConfig &config = scp->pool.getConfig();
    config.setPort(options->port);
    config.setAETitle(options->ae_title);
    config.setRespondWithCalledAETitle(OFTrue);
    config.setHostLookupEnabled(OFFalse);
    config.setConnectionBlockingMode(DUL_NOBLOCK);
    config.setConnectionTimeout(1);  // the accept loop wakes every second, so a stop is noticed
    config.setACSETimeout(options->acse_timeout_seconds);
    config.setDIMSETimeout(options->dimse_timeout_seconds);
    config.setDIMSEBlockingMode(DIMSE_NONBLOCKING);
    if (options->max_pdu > 0) config.setMaxReceivePDULength(options->max_pdu);
    OFCondition status = config.loadAssociationCfgFile(options->association_config_path);
    if (status.good()) status = config.setAndCheckAssociationProfile(options->association_profile);
    if (status.bad()) {
        copyError(error, error_length, std::string("association configuration: ") + status.text());
        delete scp;
        g_scpExists = false;
        return nullptr;
    }
    scp->pool.setMaxThreads(options->max_associations);
    return scp;
}

int cdicom_scp_run(cdicom_scp *scp, char *error, size_t error_length) {
    for (;;) {
        OFCondition status = scp->pool.listen();
        if (scp->stopping.load()) return 0;
        if (status == DUL_NOASSOCIATIONREQUEST || status.good()) continue;
        copyError(error, error_length, status.text());
        return 1;
    }
}

void cdicom_scp_stop(cdicom_scp *scp) {
    scp->stopping = true;
    scp->pool.stopAfterCurrentAssociations();
}

void cdicom_scp_destroy(cdicom_scp *scp) {
    delete scp;
    g_scpExists = false;
}

int cdicom_echo(const char *host, uint16_t port, const char *calling_aet, const char *called_aet,
                uint32_t timeout_seconds, char *error, size_t error_length) {
    DcmSCU scu;
    scu.setAETitle(calling_aet);
    scu.setPeerHostName(host);
    scu.setPeerPort(port);
    scu.setPeerAETitle(called_aet);
    scu.setConnectionTimeout(static_cast<Sint32>(timeout_seconds));
    scu.setACSETimeout(timeout_seconds);
    scu.setDIMSETimeout(timeout_seconds);
    scu.setDIMSEBlockingMode(DIMSE_NONBLOCKING);
    OFList<OFString> syntaxes;
    syntaxes.push_back(UID_LittleEndianImplicitTransferSyntax);
    scu.addPresentationContext(UID_VerificationSOPClass, syntaxes);
    OFCondition status = scu.initNetwork();
    if (status.good()) status = scu.negotiateAssociation();
    if (status.good()) status = scu.sendECHORequest(0);
    if (status.bad()) {
        copyError(error, error_length, status.text());
        scu.abortAssociation();
        return 1;
    }
    scu.releaseAssociation();
    return 0;
}

}  // extern "C"
