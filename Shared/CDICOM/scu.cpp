// The service-user side of include/cdicom.h over DCMTK 3.6.7: C-ECHO (DcmSCU), and C-STORE associations (ASC/DIMSE
// directly) that stay open for several files (a job's bulk, or consecutive jobs to the same modality).
//
// Presentation contexts: for every SOP class, one context per stored transfer syntax (so that a peer that accepts it
// receives it in that syntax), and one context with the uncompressed syntaxes (Explicit VR Little Endian first).
// A file goes in its own transfer syntax when the peer accepted it; otherwise it is decompressed to an accepted
// uncompressed syntax (JPEG, JPEG-LS and RLE decoders are registered by cdicom_initialize); when that is not possible
// the call says so and the association stays usable. As in Orthanc and storescu, DCMTK writes the dataset it read:
// every element goes as stored, but group lengths are recomputed, sequences get explicit lengths and the dataset
// trailing padding (FFFC,FFFC) is dropped.
#include "include/cdicom.h"
#include "encode.hpp"
#include "incoming.hpp"
#include "internal.hpp"
#include "storefile.hpp"
#include "tls.hpp"

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcostrmb.h"
#include "dcmtk/dcmdata/dctk.h"
#include "dcmtk/dcmnet/dimse.h"
#include "dcmtk/dcmnet/scu.h"

#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

using tessera::copyError;
using tessera::guarded;

namespace {

/// DcmSCU with its TLS switch reachable (DCMTK keeps it for DcmTLSSCU, which would read the settings itself).
class SecurableSCU : public DcmSCU {
public:
    using DcmSCU::useSecureConnection;
};

/// DCMTK refuses to propose more than 128 presentation contexts.
constexpr size_t maximumContexts = 128;

bool isUncompressed(const std::string &syntax) {
    return syntax == UID_LittleEndianExplicitTransferSyntax || syntax == UID_LittleEndianImplicitTransferSyntax ||
           syntax == UID_BigEndianExplicitTransferSyntax;
}

void configure(DcmSCU &scu, const cdicom_scu_options *options) {
    scu.setAETitle(options->calling_aet);
    scu.setPeerHostName(options->host);
    scu.setPeerPort(options->port);
    scu.setPeerAETitle(options->called_aet);
    if (options->timeout_seconds > 0) {
        scu.setConnectionTimeout(static_cast<Sint32>(options->timeout_seconds));
        scu.setACSETimeout(options->timeout_seconds);
        scu.setDIMSETimeout(options->timeout_seconds);
        scu.setDIMSEBlockingMode(DIMSE_NONBLOCKING);
    } else {
        scu.setConnectionTimeout(-1);
        scu.setACSETimeout(0);
        scu.setDIMSETimeout(0);
        scu.setDIMSEBlockingMode(DIMSE_BLOCKING);
    }
    if (options->max_pdu >= ASC_MINIMUMPDUSIZE && options->max_pdu <= ASC_MAXIMUMPDUSIZE) {
        scu.setMaxReceivePDULength(options->max_pdu);
    }
    scu.setVerbosePCMode(OFFalse);
    scu.setProgressNotificationMode(OFFalse);
    scu.setDatasetConversionMode(OFTrue);
}

std::string describe(const OFCondition &condition) {
    return condition.text() == nullptr ? std::string("unknown error") : std::string(condition.text());
}

}  // namespace

struct cdicom_scu {
    /// DICOM TLS, when asked for: declared first, so it outlives the network and the association.
    tessera::OutboundTLS tls;
    T_ASC_Network *network = nullptr;
    T_ASC_Association *association = nullptr;
    T_DIMSE_BlockingMode mode = DIMSE_BLOCKING;
    int timeout = 0;
    /// Whether files may be decompressed for the peer (its AllowTranscoding).
    bool transcode = true;
    Uint16 nextMessageID = 1;
    /// Accepted presentation contexts: (SOP class, transfer syntax) → context ID.
    std::map<std::pair<std::string, std::string>, T_ASC_PresentationContextID> accepted;

    /// Receives the next command (its status detail dropped); DCMTK's reason on failure, empty on success.
    std::string receiveCommand(T_DIMSE_Message &message, T_ASC_PresentationContextID &context) {
        std::memset(&message, 0, sizeof(message));
        DcmDataset *detail = nullptr;
        OFCondition received = DIMSE_receiveCommand(association, mode, timeout, &context, &message, &detail);
        delete detail;
        return received.good() ? std::string() : describe(received);
    }

    /// Receives and drops the dataset that follows a command; DCMTK's reason on failure, empty on success.
    std::string dropDataset(T_ASC_PresentationContextID &context) {
        DcmDataset *dropped = nullptr;
        OFCondition received = DIMSE_receiveDataSetInMemory(association, mode, timeout, &context, &dropped, nullptr, nullptr);
        delete dropped;
        return received.good() ? std::string() : describe(received);
    }

    T_ASC_PresentationContextID find(const std::string &sop, const std::string &syntax) const {
        auto found = accepted.find({sop, syntax});
        return found == accepted.end() ? 0 : found->second;
    }

    void end(bool abort) {
        if (association != nullptr) {
            if (abort) {
                ASC_abortAssociation(association);
            } else if (ASC_releaseAssociation(association).bad()) {
                ASC_abortAssociation(association);
            }
            ASC_destroyAssociation(&association);
            association = nullptr;
        }
        if (network != nullptr) {
            ASC_dropNetwork(&network);
            network = nullptr;
        }
    }
};

namespace {

/// A presentation context to propose.
struct Proposal {
    std::string abstractSyntax;
    std::vector<std::string> syntaxes;
    T_ASC_SC_ROLE role;
};

/// Requests an association proposing `contexts` (at most 128); fills `handle` (its accepted contexts included) and
/// answers an empty string, or the reason it failed (the handle then ended).
std::string requestAssociation(cdicom_scu &handle, const cdicom_scu_options *options,
                               const std::vector<Proposal> &contexts) {
    handle.timeout = static_cast<int>(options->timeout_seconds);
    handle.transcode = options->forbid_transcoding == 0;
    handle.mode = options->timeout_seconds > 0 ? DIMSE_NONBLOCKING : DIMSE_BLOCKING;
    // DCMTK 3.6.7 has one process-wide connect timeout; every outbound association sets its own before connecting.
    dcmConnectionTimeout.set(options->timeout_seconds > 0 ? static_cast<Sint32>(options->timeout_seconds) : -1);
    const std::string tlsFailure = handle.tls.prepare(options->tls);
    if (!tlsFailure.empty()) return tlsFailure;
    OFCondition status = ASC_initializeNetwork(NET_REQUESTOR, 0, handle.timeout, &handle.network);
    if (status.good() && handle.tls.layer) status = ASC_setTransportLayer(handle.network, handle.tls.layer.get(), 0);
    T_ASC_Parameters *parameters = nullptr;
    const long maximumPDU = options->max_pdu >= ASC_MINIMUMPDUSIZE && options->max_pdu <= ASC_MAXIMUMPDUSIZE
                                ? static_cast<long>(options->max_pdu) : ASC_DEFAULTMAXPDU;
    if (status.good()) status = ASC_createAssociationParameters(&parameters, maximumPDU);
    if (status.good()) status = ASC_setAPTitles(parameters, options->calling_aet, options->called_aet, nullptr);
    if (status.good() && handle.tls.layer) status = ASC_setTransportLayerType(parameters, OFTrue);
    const std::string address = std::string(options->host) + ":" + std::to_string(options->port);
    if (status.good()) status = ASC_setPresentationAddresses(parameters, OFStandard::getHostName().c_str(), address.c_str());
    T_ASC_PresentationContextID id = 1;
    for (const auto &context : contexts) {
        if (status.bad()) break;
        std::vector<const char *> syntaxes;
        for (const auto &syntax : context.syntaxes) syntaxes.push_back(syntax.c_str());
        status = ASC_addPresentationContext(parameters, id, context.abstractSyntax.c_str(), syntaxes.data(),
                                            static_cast<int>(syntaxes.size()), context.role);
        id = static_cast<T_ASC_PresentationContextID>(id + 2);
    }
    if (status.good()) {
        status = ASC_requestAssociation(handle.network, parameters, &handle.association);
        parameters = nullptr;  // owned by the association from here on
    }
    if (parameters != nullptr) ASC_destroyAssociationParameters(&parameters);
    if (status.bad()) {
        handle.end(true);
        return status == DUL_ASSOCIATIONREJECTED ? "Association rejected by the peer" : describe(status);
    }
    for (int index = 0; index < ASC_countPresentationContexts(handle.association->params); ++index) {
        T_ASC_PresentationContext context;
        if (ASC_getPresentationContext(handle.association->params, index, &context).bad()) continue;
        if (context.resultReason != ASC_P_ACCEPTANCE) continue;
        handle.accepted[{context.abstractSyntax, context.acceptedTransferSyntax}] = context.presentationContextID;
    }
    if (handle.accepted.empty()) {
        handle.end(true);
        return "the peer accepted none of the proposed presentation contexts";
    }
    return std::string();
}

}  // namespace

extern "C" {

int cdicom_echo(const cdicom_scu_options *options, char *error, size_t error_length) {
    return guarded(1, error, error_length, [&] {
        tessera::OutboundTLS tls;  // before the SCU: it outlives the association
        SecurableSCU scu;
        configure(scu, options);
        OFList<OFString> syntaxes;
        syntaxes.push_back(UID_LittleEndianImplicitTransferSyntax);
        scu.addPresentationContext(UID_VerificationSOPClass, syntaxes);
        const std::string tlsFailure = tls.prepare(options->tls);
        if (!tlsFailure.empty()) {
            copyError(error, error_length, tlsFailure);
            return 1;
        }
        OFCondition status = scu.initNetwork();
        if (status.good() && tls.layer) status = scu.useSecureConnection(tls.layer.get());
        if (status.good()) status = scu.negotiateAssociation();
        if (status.good()) status = scu.sendECHORequest(0);
        if (status.bad()) {
            copyError(error, error_length, describe(status));
            scu.abortAssociation();
            return 1;
        }
        scu.releaseAssociation();
        return 0;
    });
}

cdicom_scu *cdicom_scu_open(const cdicom_scu_options *options, const char *const *sop_classes,
                            const char *const *transfer_syntaxes, size_t count, char *error, size_t error_length) {
    return guarded<cdicom_scu *>(nullptr, error, error_length, [&]() -> cdicom_scu * {
        // One context per (SOP class, compressed syntax), one per SOP class with the uncompressed syntaxes.
        std::vector<Proposal> contexts;
        std::set<std::pair<std::string, std::string>> seen;
        std::set<std::string> uncompressedFor;
        for (size_t index = 0; index < count; ++index) {
            std::string sop = sop_classes[index], syntax = transfer_syntaxes[index];
            if (sop.empty()) continue;  // nothing can be proposed for it; its file is refused when sent
            // An unknown syntax (a file stored without meta header) goes in an uncompressed one.
            if (!syntax.empty() && seen.insert({sop, syntax}).second) {
                contexts.push_back({sop, {syntax}, ASC_SC_ROLE_DEFAULT});
            }
            if (uncompressedFor.insert(sop).second) {
                contexts.push_back({sop, {UID_LittleEndianExplicitTransferSyntax, UID_LittleEndianImplicitTransferSyntax,
                                          UID_BigEndianExplicitTransferSyntax}, ASC_SC_ROLE_DEFAULT});
            }
        }
        if (contexts.empty() || contexts.size() > maximumContexts) {
            copyError(error, error_length, contexts.empty() ? "no presentation context to propose"
                                                            : "more than 128 presentation contexts to propose");
            return nullptr;
        }
        std::unique_ptr<cdicom_scu> handle(new cdicom_scu());
        const std::string failure = requestAssociation(*handle, options, contexts);
        if (!failure.empty()) {
            copyError(error, error_length, failure);
            return nullptr;
        }
        return handle.release();
    });
}

int cdicom_scu_accepts(const cdicom_scu *scu, const char *sop_class, const char *transfer_syntax) {
    if (scu == nullptr) return 0;
    return guarded(0, [&] {
        if (scu->find(sop_class, transfer_syntax) != 0) return 2;
        for (const char *syntax : {UID_LittleEndianExplicitTransferSyntax, UID_LittleEndianImplicitTransferSyntax,
                                   UID_BigEndianExplicitTransferSyntax}) {
            if (scu->find(sop_class, syntax) != 0) return 1;
        }
        return 0;
    });
}

int cdicom_scu_store(cdicom_scu *scu, const char *path, const char *move_originator_aet, uint16_t move_originator_id,
                     uint16_t *status, char *error, size_t error_length) {
    return guarded<int>(CDICOM_SCU_NETWORK, error, error_length, [&]() -> int {
        if (scu == nullptr || scu->association == nullptr) {
            copyError(error, error_length, "the association is closed");
            return CDICOM_SCU_NETWORK;
        }
        tessera::StoreParameters parameters;
        parameters.messageID = scu->nextMessageID++;
        if (scu->nextMessageID == 0) scu->nextMessageID = 1;
        if (move_originator_aet != nullptr) parameters.moveOriginatorAET = move_originator_aet;
        parameters.moveOriginatorID = move_originator_id;
        parameters.mode = scu->mode;
        parameters.timeout = scu->timeout;
        parameters.transcode = scu->transcode;
        std::string failure;
        Uint16 answered = 0;
        const int outcome = tessera::storeFile(
            scu->association, [&](const std::string &sop, const std::string &syntax) { return scu->find(sop, syntax); },
            path, parameters, answered, failure);
        if (outcome == CDICOM_SCU_ANSWERED) {
            *status = answered;
        } else {
            copyError(error, error_length, failure);
            if (outcome == CDICOM_SCU_NETWORK) scu->end(true);
        }
        return outcome;
    });
}

int cdicom_scu_is_open(const cdicom_scu *scu) {
    return scu != nullptr && scu->association != nullptr ? 1 : 0;
}

void cdicom_scu_close(cdicom_scu *scu, int abort) {
    if (scu == nullptr) return;
    guarded(0, [&] {
        scu->end(abort != 0);
        return 0;
    });
    delete scu;
}

namespace {

/// The query identifier: each attribute with the dictionary's VR, values as given.
OFCondition buildQuery(DcmDataset &query, const uint32_t *tags, const char *const *values, size_t count) {
    bool ascii = true;
    for (size_t index = 0; index < count; ++index) {
        const DcmTagKey key(static_cast<Uint16>(tags[index] >> 16), static_cast<Uint16>(tags[index] & 0xFFFF));
        OFCondition put = query.putAndInsertString(DcmTag(key), values[index]);
        if (put.bad()) return put;
        for (const char *c = values[index]; *c != '\0'; ++c) {
            if (static_cast<unsigned char>(*c) >= 0x80) ascii = false;
        }
    }
    // Values come as UTF-8: say so when they are not plain ASCII.
    if (!ascii && !query.tagExists(DCM_SpecificCharacterSet)) query.putAndInsertString(DCM_SpecificCharacterSet, "ISO_IR 192");
    return EC_Normal;
}

/// Opens an association proposing only `model`.
OFCondition openQueryAssociation(SecurableSCU &scu, tessera::OutboundTLS &tls, const cdicom_scu_options *options,
                                 const char *model, T_ASC_PresentationContextID &context) {
    configure(scu, options);
    OFList<OFString> syntaxes;
    syntaxes.push_back(UID_LittleEndianExplicitTransferSyntax);
    syntaxes.push_back(UID_LittleEndianImplicitTransferSyntax);
    scu.addPresentationContext(model, syntaxes);
    const std::string tlsFailure = tls.prepare(options->tls);
    if (!tlsFailure.empty()) return makeOFCondition(OFM_dcmnet, 2, OF_error, tlsFailure.c_str());
    OFCondition status = scu.initNetwork();
    if (status.good() && tls.layer) status = scu.useSecureConnection(tls.layer.get());
    if (status.good()) status = scu.negotiateAssociation();
    if (status.good()) {
        context = scu.findAnyPresentationContextID(model, UID_LittleEndianExplicitTransferSyntax);
        if (context == 0) status = makeOFCondition(OFM_dcmnet, 1, OF_error, "the peer refused the query/retrieve model");
    }
    return status;
}

}  // namespace

extern "C++" {
namespace {

/// Builds the query, opens an association for `model`, runs `request` (which returns its error text, empty on
/// success) and ends the association: released after success, aborted otherwise.
template <typename Request>
int runQuery(const cdicom_scu_options *options, const char *model, const uint32_t *tags, const char *const *values,
             size_t count, char *error, size_t error_length, Request &&request) {
    return guarded(1, error, error_length, [&] {
        tessera::OutboundTLS tls;  // before the SCU: it outlives the association
        SecurableSCU scu;
        T_ASC_PresentationContextID presentation = 0;
        DcmDataset query;
        OFCondition result = buildQuery(query, tags, values, count);
        if (result.good()) result = openQueryAssociation(scu, tls, options, model, presentation);
        std::string failure = result.good() ? request(scu, presentation, query) : describe(result);
        if (scu.isConnected()) {
            if (failure.empty()) scu.releaseAssociation(); else scu.abortAssociation();
        }
        if (failure.empty()) return 0;
        copyError(error, error_length, failure);
        return 1;
    });
}

}  // namespace
}  // extern "C++"

int cdicom_find(const cdicom_scu_options *options, const char *model, const uint32_t *tags, const char *const *values,
                size_t count, cdicom_find_answer answer, void *context, uint16_t *status, char *error,
                size_t error_length) {
    return runQuery(options, model, tags, values, count, error, error_length,
                    [&](DcmSCU &scu, T_ASC_PresentationContextID presentation, DcmDataset &query) -> std::string {
        OFList<QRResponse *> responses;
        OFCondition result = scu.sendFINDRequest(presentation, &query, &responses);
        bool delivering = true;
        *status = 0;
        for (QRResponse *response : responses) {
            *status = response->m_status;
            if (result.good() && delivering && response->m_dataset != nullptr &&
                (response->m_status == 0xFF00 || response->m_status == 0xFF01)) {
                std::vector<uint8_t> bytes;
                if (tessera::encodeDataset(response->m_dataset, bytes) && answer(context, bytes.data(), bytes.size()) != 0) delivering = false;
            }
            delete response;
        }
        return result.good() ? std::string() : describe(result);
    });
}

int cdicom_move(const cdicom_scu_options *options, const char *model, const uint32_t *tags, const char *const *values,
                size_t count, const char *destination, uint16_t *status, uint16_t suboperations[3], char *error,
                size_t error_length) {
    return runQuery(options, model, tags, values, count, error, error_length,
                    [&](DcmSCU &scu, T_ASC_PresentationContextID presentation, DcmDataset &query) -> std::string {
        OFList<RetrieveResponse *> responses;
        OFCondition result = scu.sendMOVERequest(presentation, destination, &query, &responses);
        std::string failure = result.good() ? std::string() : describe(result);
        if (failure.empty() && responses.empty()) failure = "no C-MOVE response";
        if (failure.empty()) {
            RetrieveResponse *last = responses.back();
            *status = last->m_status;
            suboperations[0] = last->m_numberOfCompletedSubops;
            suboperations[1] = last->m_numberOfFailedSubops;
            suboperations[2] = last->m_numberOfWarningSubops;
        }
        for (RetrieveResponse *response : responses) delete response;
        return failure;
    });
}

int cdicom_get(const cdicom_scu_options *options, const char *model, const uint32_t *tags, const char *const *values,
               size_t count, const char *const *sop_classes, size_t sop_class_count,
               const char *const *transfer_syntaxes, size_t syntax_count, const char *incoming_folder,
               cdicom_store_callback callback, void *context, uint16_t *status, uint16_t suboperations[3], char *error,
               size_t error_length) {
    return guarded(1, error, error_length, [&]() -> int {
        DcmDataset query;
        OFCondition built = buildQuery(query, tags, values, count);
        if (built.bad()) {
            copyError(error, error_length, describe(built));
            return 1;
        }
        // The model, then each storage SOP class in the SCP role (the peer's C-STOREs come on this association).
        std::vector<Proposal> contexts;
        contexts.push_back({model, {UID_LittleEndianExplicitTransferSyntax, UID_LittleEndianImplicitTransferSyntax},
                            ASC_SC_ROLE_DEFAULT});
        std::vector<std::string> syntaxes(transfer_syntaxes, transfer_syntaxes + syntax_count);
        if (syntaxes.empty()) {
            syntaxes = {UID_LittleEndianExplicitTransferSyntax, UID_LittleEndianImplicitTransferSyntax,
                        UID_BigEndianExplicitTransferSyntax};
        }
        std::set<std::string> proposed;
        const size_t classes = sop_class_count > 0 ? sop_class_count : static_cast<size_t>(numberOfDcmLongSCUStorageSOPClassUIDs);
        for (size_t index = 0; index < classes && contexts.size() < maximumContexts; ++index) {
            const char *sop = sop_class_count > 0 ? sop_classes[index] : dcmLongSCUStorageSOPClassUIDs[index];
            if (sop == nullptr || sop[0] == '\0' || !proposed.insert(sop).second) continue;
            contexts.push_back({sop, syntaxes, ASC_SC_ROLE_SCP});
        }
        cdicom_scu handle;
        std::string failure = requestAssociation(handle, options, contexts);
        if (!failure.empty()) {
            copyError(error, error_length, failure);
            return 1;
        }
        T_ASC_PresentationContextID presentation = handle.find(model, UID_LittleEndianExplicitTransferSyntax);
        if (presentation == 0) presentation = handle.find(model, UID_LittleEndianImplicitTransferSyntax);
        if (presentation == 0) failure = "the peer refused the query/retrieve model";
        T_DIMSE_Message request;
        std::memset(&request, 0, sizeof(request));
        request.CommandField = DIMSE_C_GET_RQ;
        request.msg.CGetRQ.MessageID = handle.nextMessageID++;
        OFStandard::strlcpy(request.msg.CGetRQ.AffectedSOPClassUID, model, sizeof(request.msg.CGetRQ.AffectedSOPClassUID));
        request.msg.CGetRQ.Priority = DIMSE_PRIORITY_MEDIUM;
        request.msg.CGetRQ.DataSetType = DIMSE_DATASET_PRESENT;
        if (failure.empty()) {
            OFCondition sent = DIMSE_sendMessageUsingMemoryData(handle.association, presentation, &request, nullptr, &query,
                                                                nullptr, nullptr);
            if (sent.bad()) failure = describe(sent);
        }
        const OFString peerAET = options->called_aet;
        *status = 0;
        while (failure.empty()) {
            T_DIMSE_Message message;
            T_ASC_PresentationContextID incoming = 0;
            failure = handle.receiveCommand(message, incoming);
            if (!failure.empty()) break;
            if (message.CommandField == DIMSE_C_GET_RSP) {
                const T_DIMSE_C_GetRSP &response = message.msg.CGetRSP;
                if (response.DataSetType != DIMSE_DATASET_NULL) {  // the failed SOP instances: not kept
                    failure = handle.dropDataset(incoming);
                    if (!failure.empty()) break;
                }
                *status = response.DimseStatus;
                if (response.opts & O_GET_NUMBEROFCOMPLETEDSUBOPERATIONS) suboperations[0] = response.NumberOfCompletedSubOperations;
                if (response.opts & O_GET_NUMBEROFFAILEDSUBOPERATIONS) suboperations[1] = response.NumberOfFailedSubOperations;
                if (response.opts & O_GET_NUMBEROFWARNINGSUBOPERATIONS) suboperations[2] = response.NumberOfWarningSubOperations;
                if (!DICOM_PENDING_STATUS(response.DimseStatus)) break;
            } else if (message.CommandField == DIMSE_C_STORE_RQ) {
                T_DIMSE_C_StoreRQ &store = message.msg.CStoreRQ;
                T_ASC_PresentationContext accepted;
                Uint16 answer = STATUS_STORE_Refused_OutOfResources;
                tessera::IncomingFile file;
                if (ASC_findAcceptedPresentationContext(handle.association->params, incoming, &accepted).bad() ||
                    !file.create(incoming_folder, "get")) {
                    DIC_UL bytes = 0, fragments = 0;
                    OFCondition drained = DIMSE_ignoreDataSet(handle.association, handle.mode, handle.timeout, &bytes, &fragments);
                    if (drained.bad()) {
                        failure = describe(drained);
                        break;
                    }
                } else {
                    const tessera::ReceivedDataset dataset = tessera::receiveDataset(
                        handle.association, handle.mode, handle.timeout, incoming, store, accepted.acceptedTransferSyntax,
                        peerAET, file);
                    if (dataset.network.bad() &&
                        !(dataset.network.module() == OFM_dcmnet && dataset.network.code() == DIMSEC_OUTOFRESOURCES)) {
                        failure = describe(dataset.network);
                        break;
                    }
                    if (dataset.written) {
                        cdicom_received_instance instance;
                        instance.path = file.path.c_str();
                        instance.calling_aet = options->called_aet;
                        instance.called_aet = options->calling_aet;
                        instance.peer_ip = options->host;
                        instance.sop_class_uid = store.AffectedSOPClassUID;
                        instance.sop_instance_uid = store.AffectedSOPInstanceUID;
                        instance.association_id = 0;
                        instance.md5 = dataset.md5.empty() ? nullptr : dataset.md5.c_str();
                        file.handedOn = true;  // the callback adopts or removes it
                        answer = callback(context, &instance);
                    }
                }
                T_DIMSE_C_StoreRSP response;
                std::memset(&response, 0, sizeof(response));
                response.MessageIDBeingRespondedTo = store.MessageID;
                response.DimseStatus = answer;
                response.DataSetType = DIMSE_DATASET_NULL;
                OFStandard::strlcpy(response.AffectedSOPClassUID, store.AffectedSOPClassUID, sizeof(response.AffectedSOPClassUID));
                OFStandard::strlcpy(response.AffectedSOPInstanceUID, store.AffectedSOPInstanceUID,
                                    sizeof(response.AffectedSOPInstanceUID));
                response.opts = O_STORE_AFFECTEDSOPCLASSUID | O_STORE_AFFECTEDSOPINSTANCEUID;
                OFCondition answered = DIMSE_sendStoreResponse(handle.association, incoming, &store, &response, nullptr);
                if (answered.bad()) failure = describe(answered);
            } else {
                failure = "the peer sent an unexpected DIMSE command during the C-GET";
            }
        }
        handle.end(!failure.empty());
        if (failure.empty()) return 0;
        copyError(error, error_length, failure);
        return 1;
    });
}

int cdicom_storage_commitment(const cdicom_scu_options *options, const char *transaction_uid,
                              const char *const *sop_classes, const char *const *sop_instances, size_t count,
                              uint16_t *status, char *error, size_t error_length) {
    return guarded(1, error, error_length, [&]() -> int {
        // N-ACTION of the Storage Commitment Push Model: the transaction and the instances to commit.
        DcmDataset request;
        OFCondition built = request.putAndInsertString(DCM_TransactionUID, transaction_uid);
        for (size_t index = 0; built.good() && index < count; ++index) {
            DcmItem *item = nullptr;
            built = request.findOrCreateSequenceItem(DCM_ReferencedSOPSequence, item, -2);
            if (built.good()) built = item->putAndInsertString(DCM_ReferencedSOPClassUID, sop_classes[index]);
            if (built.good()) built = item->putAndInsertString(DCM_ReferencedSOPInstanceUID, sop_instances[index]);
        }
        if (built.bad()) {
            copyError(error, error_length, describe(built));
            return 1;
        }
        cdicom_scu handle;
        std::string failure = requestAssociation(handle, options, {{UID_StorageCommitmentPushModelSOPClass,
            {UID_LittleEndianExplicitTransferSyntax, UID_LittleEndianImplicitTransferSyntax}, ASC_SC_ROLE_DEFAULT}});
        if (!failure.empty()) {
            copyError(error, error_length, failure);
            return 1;
        }
        T_ASC_PresentationContextID presentation = handle.find(UID_StorageCommitmentPushModelSOPClass, UID_LittleEndianExplicitTransferSyntax);
        if (presentation == 0) presentation = handle.find(UID_StorageCommitmentPushModelSOPClass, UID_LittleEndianImplicitTransferSyntax);
        T_DIMSE_Message message;
        std::memset(&message, 0, sizeof(message));
        message.CommandField = DIMSE_N_ACTION_RQ;
        T_DIMSE_N_ActionRQ &action = message.msg.NActionRQ;
        action.MessageID = handle.nextMessageID++;
        action.ActionTypeID = 1;  // Request Storage Commitment
        action.DataSetType = DIMSE_DATASET_PRESENT;
        OFStandard::strlcpy(action.RequestedSOPClassUID, UID_StorageCommitmentPushModelSOPClass, sizeof(action.RequestedSOPClassUID));
        OFStandard::strlcpy(action.RequestedSOPInstanceUID, UID_StorageCommitmentPushModelSOPInstance,
                            sizeof(action.RequestedSOPInstanceUID));
        if (presentation == 0) failure = "the peer refused the Storage Commitment Push Model";
        if (failure.empty()) {
            OFCondition sent = DIMSE_sendMessageUsingMemoryData(handle.association, presentation, &message, nullptr, &request,
                                                                nullptr, nullptr);
            if (sent.bad()) failure = describe(sent);
        }
        if (failure.empty()) {
            T_DIMSE_Message response;
            T_ASC_PresentationContextID incoming = 0;
            failure = handle.receiveCommand(response, incoming);
            if (failure.empty() && (response.CommandField != DIMSE_N_ACTION_RSP ||
                                    response.msg.NActionRSP.MessageIDBeingRespondedTo != action.MessageID)) {
                failure = "the peer did not answer the N-ACTION";
            }
            if (failure.empty()) {
                if (response.msg.NActionRSP.DataSetType != DIMSE_DATASET_NULL) failure = handle.dropDataset(incoming);
                *status = response.msg.NActionRSP.DimseStatus;
            }
        }
        // The report comes later, on an association the peer opens (as Orthanc expects).
        handle.end(!failure.empty());
        if (failure.empty()) return 0;
        copyError(error, error_length, failure);
        return 1;
    });
}

}  // extern "C"
