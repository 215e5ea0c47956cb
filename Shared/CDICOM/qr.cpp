// The answering side of C-FIND, C-MOVE and C-GET (cdicom_qr_ in cdicom.h): pending and final responses with DCMTK's
// DIMSE calls, C-CANCEL checks before each pending response, and the C-STORE sub-operations of C-GET on the
// requester's association.
#include "qr.hpp"
#include "internal.hpp"
#include "storefile.hpp"

#include "dcmtk/dcmnet/diutil.h"

#include <cstring>
#include <string>

using tessera::copyError;
using tessera::guarded;

namespace {

constexpr Uint16 kPending = STATUS_Pending;
constexpr Uint16 kCancel = STATUS_FIND_Cancel_MatchingTerminatedDueToCancelRequest;  // 0xFE00, for every command

/// Whether the requester sent C-CANCEL for this request (without waiting).
bool cancelRequested(cdicom_qr &qr) {
    if (qr.canceled) return true;
    Uint16 messageID = qr.command == CDICOM_QR_FIND ? qr.find.MessageID
                     : qr.command == CDICOM_QR_MOVE ? qr.move.MessageID : qr.get.MessageID;
    OFCondition cancel = DIMSE_checkForCancelRQ(qr.association, qr.presentation, messageID);
    if (cancel.good()) qr.canceled = true;
    return qr.canceled;
}

/// Fills what C-MOVE and C-GET responses share (their options are set by the caller).
template <typename Response>
void fillRetrieveResponse(Response &response, Uint16 status, Uint16 messageID, const char *sopClass, bool withIdentifier,
                          Uint16 remaining, Uint16 completed, Uint16 failed, Uint16 warning) {
    std::memset(&response, 0, sizeof(response));
    response.DimseStatus = status;
    response.MessageIDBeingRespondedTo = messageID;
    response.DataSetType = withIdentifier ? DIMSE_DATASET_PRESENT : DIMSE_DATASET_NULL;
    OFStandard::strlcpy(response.AffectedSOPClassUID, sopClass, sizeof(response.AffectedSOPClassUID));
    response.NumberOfRemainingSubOperations = remaining;
    response.NumberOfCompletedSubOperations = completed;
    response.NumberOfFailedSubOperations = failed;
    response.NumberOfWarningSubOperations = warning;
}

/// Sends a C-MOVE or C-GET response with these counts (the remaining one only when `withRemaining`).
OFCondition sendRetrieveResponse(cdicom_qr &qr, Uint16 status, Uint16 remaining, Uint16 completed, Uint16 failed,
                                 Uint16 warning, bool withRemaining, DcmDataset *identifier, DcmDataset *detail) {
    if (qr.command == CDICOM_QR_MOVE) {
        T_DIMSE_C_MoveRSP response;
        fillRetrieveResponse(response, status, qr.move.MessageID, qr.move.AffectedSOPClassUID, identifier != nullptr,
                             remaining, completed, failed, warning);
        response.opts = O_MOVE_AFFECTEDSOPCLASSUID | O_MOVE_NUMBEROFCOMPLETEDSUBOPERATIONS |
                        O_MOVE_NUMBEROFFAILEDSUBOPERATIONS | O_MOVE_NUMBEROFWARNINGSUBOPERATIONS;
        if (withRemaining) response.opts |= O_MOVE_NUMBEROFREMAININGSUBOPERATIONS;
        return DIMSE_sendMoveResponse(qr.association, qr.presentation, &qr.move, &response, identifier, detail);
    }
    T_DIMSE_C_GetRSP response;
    fillRetrieveResponse(response, status, qr.get.MessageID, qr.get.AffectedSOPClassUID, identifier != nullptr,
                         remaining, completed, failed, warning);
    response.opts = O_GET_AFFECTEDSOPCLASSUID | O_GET_NUMBEROFCOMPLETEDSUBOPERATIONS | O_GET_NUMBEROFFAILEDSUBOPERATIONS |
                    O_GET_NUMBEROFWARNINGSUBOPERATIONS;
    if (withRemaining) response.opts |= O_GET_NUMBEROFREMAININGSUBOPERATIONS;
    return DIMSE_sendGetResponse(qr.association, qr.presentation, &qr.get, &response, identifier, detail);
}

/// A C-FIND response to the request, with `status` and, when `withIdentifier`, an identifier following.
T_DIMSE_C_FindRSP findResponse(const cdicom_qr &qr, Uint16 status, bool withIdentifier) {
    T_DIMSE_C_FindRSP response;
    std::memset(&response, 0, sizeof(response));
    response.DimseStatus = status;
    response.MessageIDBeingRespondedTo = qr.find.MessageID;
    response.DataSetType = withIdentifier ? DIMSE_DATASET_PRESENT : DIMSE_DATASET_NULL;
    OFStandard::strlcpy(response.AffectedSOPClassUID, qr.find.AffectedSOPClassUID, sizeof(response.AffectedSOPClassUID));
    response.opts = O_FIND_AFFECTEDSOPCLASSUID;
    return response;
}

/// Puts one answered attribute: the request's VR when it had the attribute, else the dictionary's.
void putAttribute(DcmDataset &answer, const DcmDataset *request, Uint32 tag, const char *value) {
    const DcmTagKey key(static_cast<Uint16>(tag >> 16), static_cast<Uint16>(tag & 0xFFFF));
    DcmTag typed(key);
    DcmElement *asked = nullptr;
    if (request != nullptr && const_cast<DcmDataset *>(request)->findAndGetElement(key, asked, OFFalse).good() &&
        asked != nullptr) {
        typed.setVR(asked->getTag().getVR());
    }
    if (typed.getEVR() == EVR_SQ) {
        answer.insertEmptyElement(typed);  // sequence matching is not supported: an empty sequence
    } else if (value == nullptr || value[0] == '\0') {
        answer.insertEmptyElement(typed);
    } else if (answer.putAndInsertString(typed, value).bad()) {
        answer.insertEmptyElement(typed);
    }
}

}  // namespace

namespace tessera {

void finishUnanswered(cdicom_qr &qr) {
    if (qr.finished) return;
    cdicom_qr_finish(&qr, STATUS_FIND_Failed_UnableToProcess, 0, 0, 0, 0, nullptr, "The request could not be processed");
}

}  // namespace tessera

extern "C" {

int cdicom_qr_find_answer(cdicom_qr *qr, const uint32_t *tags, const char *const *values, size_t count,
                          const char *character_set) {
    if (qr == nullptr || qr->finished || qr->broken || qr->command != CDICOM_QR_FIND) return CDICOM_QR_BROKEN;
    return guarded<int>(CDICOM_QR_BROKEN, [&]() -> int {
        if (cancelRequested(*qr)) return CDICOM_QR_CANCELED;
        DcmDataset answer;
        bool ascii = true;
        for (size_t index = 0; index < count; ++index) {
            const char *value = values[index] == nullptr ? "" : values[index];
            for (const char *c = value; *c != '\0'; ++c) {
                if (static_cast<unsigned char>(*c) >= 0x80) ascii = false;
            }
            if ((tags[index] >> 16) == 0x0008 && (tags[index] & 0xFFFF) == 0x0005) continue;  // set below
            putAttribute(answer, qr->identifier, tags[index], value);
        }
        const std::string target = character_set == nullptr ? "" : character_set;
        if (!ascii) {
            answer.putAndInsertString(DCM_SpecificCharacterSet, "ISO_IR 192");
            if (!target.empty() && target != "ISO_IR 192" &&
                answer.convertCharacterSet(target.c_str(), DCMTypes::CF_discardIllegal | DCMTypes::CF_transliterate).bad()) {
                answer.putAndInsertString(DCM_SpecificCharacterSet, "ISO_IR 192");  // stays UTF-8
            }
        } else if (!target.empty()) {
            answer.putAndInsertString(DCM_SpecificCharacterSet, target.c_str());
        }
        T_DIMSE_C_FindRSP response = findResponse(*qr, kPending, true);
        if (DIMSE_sendFindResponse(qr->association, qr->presentation, &qr->find, &response, &answer, nullptr).bad()) {
            qr->broken = true;
            return CDICOM_QR_BROKEN;
        }
        return CDICOM_QR_SENT;
    });
}

int cdicom_qr_pending(cdicom_qr *qr, uint16_t remaining, uint16_t completed, uint16_t failed, uint16_t warning) {
    if (qr == nullptr || qr->finished || qr->broken || qr->command == CDICOM_QR_FIND) return CDICOM_QR_BROKEN;
    return guarded<int>(CDICOM_QR_BROKEN, [&]() -> int {
        if (cancelRequested(*qr)) return CDICOM_QR_CANCELED;
        if (sendRetrieveResponse(*qr, kPending, remaining, completed, failed, warning, true, nullptr, nullptr).bad()) {
            qr->broken = true;
            return CDICOM_QR_BROKEN;
        }
        return CDICOM_QR_SENT;
    });
}

int cdicom_qr_store(cdicom_qr *qr, const char *path, uint16_t *status, char *error, size_t error_length) {
    if (qr == nullptr || qr->finished || qr->broken || qr->command != CDICOM_QR_GET) {
        copyError(error, error_length, "the association is closed");
        return CDICOM_SCU_NETWORK;
    }
    return guarded<int>(CDICOM_SCU_NETWORK, error, error_length, [&]() -> int {
        tessera::StoreParameters parameters;
        parameters.messageID = qr->nextMessageID++;
        if (qr->nextMessageID == 0) qr->nextMessageID = 1;
        parameters.mode = qr->mode;
        parameters.timeout = qr->timeout;
        T_ASC_Association *association = qr->association;
        // The storage contexts the requester proposed in the SCP role, as accepted.
        auto find = [association](const std::string &sop, const std::string &syntax) -> T_ASC_PresentationContextID {
            for (int index = 0; index < ASC_countPresentationContexts(association->params); ++index) {
                T_ASC_PresentationContext context;
                if (ASC_getPresentationContext(association->params, index, &context).bad()) continue;
                if (context.resultReason != ASC_P_ACCEPTANCE) continue;
                if (sop == context.abstractSyntax && syntax == context.acceptedTransferSyntax) {
                    return context.presentationContextID;
                }
            }
            return 0;
        };
        std::string failure;
        Uint16 answered = 0;
        const int outcome = tessera::storeFile(association, find, path, parameters, answered, failure);
        if (outcome == CDICOM_SCU_ANSWERED) {
            *status = answered;
        } else {
            copyError(error, error_length, failure);
            if (outcome == CDICOM_SCU_NETWORK) qr->broken = true;
        }
        return outcome;
    });
}

int cdicom_qr_finish(cdicom_qr *qr, uint16_t status, uint16_t remaining, uint16_t completed, uint16_t failed,
                     uint16_t warning, const char *failed_uids, const char *error_comment) {
    if (qr == nullptr || qr->finished) return 1;
    qr->finished = true;
    if (qr->broken) return 1;
    return guarded<int>(1, [&]() -> int {
        const bool failure = (status & 0xF000) == 0xA000 || (status & 0xF000) == 0xC000;
        DcmDataset detail;
        if (failure && error_comment != nullptr && error_comment[0] != '\0') {
            std::string comment(error_comment);
            if (comment.size() > 64) comment.resize(64);  // ErrorComment is LO
            detail.putAndInsertString(DCM_ErrorComment, comment.c_str());
        }
        DcmDataset *details = detail.card() > 0 ? &detail : nullptr;
        OFCondition sent = EC_Normal;
        if (qr->command == CDICOM_QR_FIND) {
            T_DIMSE_C_FindRSP response = findResponse(*qr, status, false);
            sent = DIMSE_sendFindResponse(qr->association, qr->presentation, &qr->find, &response, nullptr, details);
        } else {
            DcmDataset identifier;
            DcmDataset *withFailures = nullptr;
            if (failed_uids != nullptr && failed_uids[0] != '\0') {
                identifier.putAndInsertString(DCM_FailedSOPInstanceUIDList, failed_uids);
                withFailures = &identifier;
            }
            sent = sendRetrieveResponse(*qr, status, remaining, completed, failed, warning, status == kCancel, withFailures,
                                        details);
        }
        if (sent.bad()) {
            qr->broken = true;
            return 1;
        }
        return 0;
    });
}

}  // extern "C"
