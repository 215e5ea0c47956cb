// See storefile.hpp.
#include "storefile.hpp"
#include "include/cdicom.h"

#include "dcmtk/dcmnet/diutil.h"

#include <cstring>

namespace tessera {

namespace {

std::string describe(const OFCondition &condition) {
    return condition.text() == nullptr ? std::string("unknown error") : std::string(condition.text());
}

}  // namespace

int storeFile(T_ASC_Association *association, const ContextFinder &find, const char *path,
              const StoreParameters &parameters, Uint16 &status, std::string &error) {
    if (association == nullptr) {
        error = "the association is closed";
        return CDICOM_SCU_NETWORK;
    }
    // Large elements (pixel data) stay on disk: only what is needed to choose a context is read now.
    DcmFileFormat file;
    OFCondition loaded = file.loadFile(path, EXS_Unknown, EGL_noChange, 4096, ERM_autoDetect);
    if (loaded.bad()) {
        error = "cannot read the stored file: " + describe(loaded);
        return CDICOM_SCU_UNREADABLE;
    }
    DcmDataset *dataset = file.getDataset();
    OFString sopClass, sopInstance;
    // The dataset's UIDs (what the peer checks the request against), the meta header's when it has none.
    if (dataset->findAndGetOFString(DCM_SOPClassUID, sopClass).bad() || sopClass.empty()) {
        file.getMetaInfo()->findAndGetOFString(DCM_MediaStorageSOPClassUID, sopClass);
    }
    if (dataset->findAndGetOFString(DCM_SOPInstanceUID, sopInstance).bad() || sopInstance.empty()) {
        file.getMetaInfo()->findAndGetOFString(DCM_MediaStorageSOPInstanceUID, sopInstance);
    }
    const std::string original = DcmXfer(dataset->getOriginalXfer()).getXferID();
    if (sopClass.empty() || sopInstance.empty()) {
        error = "the stored file has no SOP class or SOP instance UID";
        return CDICOM_SCU_UNREADABLE;
    }
    // The file's own syntax when accepted; otherwise an accepted uncompressed one, the dataset decompressed to it.
    T_ASC_PresentationContextID context = find(sopClass.c_str(), original);
    if (context == 0 && !parameters.transcode) {
        // As Orthanc without transcoding: the file goes in its own syntax or not at all.
        error = "No valid presentation context was negotiated for SOP class UID [" + std::string(sopClass.c_str()) +
                "] and transfer syntax [" + original + "] (transcoding is not allowed for this modality)";
        return CDICOM_SCU_NO_CONTEXT;
    }
    if (context == 0) {
        for (const char *syntax : {UID_LittleEndianExplicitTransferSyntax, UID_LittleEndianImplicitTransferSyntax,
                                   UID_BigEndianExplicitTransferSyntax}) {
            context = find(sopClass.c_str(), syntax);
            if (context == 0) continue;
            const E_TransferSyntax target = DcmXfer(syntax).getXfer();
            if (dataset->chooseRepresentation(target, nullptr).bad() || !dataset->canWriteXfer(target)) {
                error = "Cannot transcode from " + original + " to " + syntax;
                return CDICOM_SCU_TRANSCODE;
            }
            break;
        }
    }
    if (context == 0) {
        error = "the peer accepted no presentation context for SOP class " + std::string(sopClass.c_str());
        return CDICOM_SCU_NO_CONTEXT;
    }
    T_DIMSE_C_StoreRQ request;
    std::memset(&request, 0, sizeof(request));
    request.MessageID = parameters.messageID;
    OFStandard::strlcpy(request.AffectedSOPClassUID, sopClass.c_str(), sizeof(request.AffectedSOPClassUID));
    OFStandard::strlcpy(request.AffectedSOPInstanceUID, sopInstance.c_str(), sizeof(request.AffectedSOPInstanceUID));
    request.DataSetType = DIMSE_DATASET_PRESENT;
    request.Priority = DIMSE_PRIORITY_MEDIUM;
    if (!parameters.moveOriginatorAET.empty()) {
        request.opts = O_STORE_MOVEORIGINATORAETITLE | O_STORE_MOVEORIGINATORID;
        OFStandard::strlcpy(request.MoveOriginatorApplicationEntityTitle, parameters.moveOriginatorAET.c_str(),
                            sizeof(request.MoveOriginatorApplicationEntityTitle));
        request.MoveOriginatorID = parameters.moveOriginatorID;
    }
    T_DIMSE_C_StoreRSP response;
    std::memset(&response, 0, sizeof(response));
    DcmDataset *statusDetail = nullptr;
    OFCondition sent = DIMSE_storeUser(association, context, &request, nullptr, dataset, nullptr, nullptr,
                                       parameters.mode, parameters.timeout, &response, &statusDetail);
    delete statusDetail;
    if (sent.bad()) {
        error = describe(sent);
        return CDICOM_SCU_NETWORK;
    }
    status = response.DimseStatus;
    return CDICOM_SCU_ANSWERED;
}

}  // namespace tessera
