// See incoming.hpp.
#include "incoming.hpp"

#include "dcmtk/dcmdata/dcostrma.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

namespace tessera {

namespace {

/// Writes received PDV payloads to a file descriptor; any write error is kept (DCMTK then drains the dataset).
class FileConsumer : public DcmConsumer {
public:
    explicit FileConsumer(int descriptor) : descriptor_(descriptor), status_(EC_Normal) {}
    OFBool good() const override { return status_.good(); }
    OFCondition status() const override { return status_; }
    OFBool isFlushed() const override { return OFTrue; }
    offile_off_t avail() const override { return 0x7FFFFFFF; }
    void flush() override {}

    offile_off_t write(const void *buffer, offile_off_t length) override {
        const char *bytes = static_cast<const char *>(buffer);
        offile_off_t done = 0;
        while (status_.good() && done < length) {
            ssize_t count = ::write(descriptor_, bytes + done, static_cast<size_t>(length - done));
            if (count < 0 && errno == EINTR) continue;
            if (count <= 0) {
                status_ = makeOFCondition(OFM_dcmdata, 19, OF_error, std::strerror(errno));
                break;
            }
            done += count;
        }
        return done;
    }

private:
    int descriptor_;
    OFCondition status_;
};

class FileOutputStream : public DcmOutputStream {
public:
    explicit FileOutputStream(int descriptor) : DcmOutputStream(&consumer_), consumer_(descriptor) {}
    const FileConsumer &consumer() const { return consumer_; }

private:
    FileConsumer consumer_;
};

std::atomic<unsigned long> sequence{0};

OFCondition writeMetaHeader(DcmOutputStream &out, const T_DIMSE_C_StoreRQ &request, const std::string &syntax,
                            const OFString &source) {
    DcmMetaInfo meta;
    meta.putAndInsertUint32(DCM_FileMetaInformationGroupLength, 0);
    Uint8 version[2] = {0, 1};
    meta.putAndInsertUint8Array(DCM_FileMetaInformationVersion, version, 2);
    meta.putAndInsertString(DCM_MediaStorageSOPClassUID, request.AffectedSOPClassUID);
    meta.putAndInsertString(DCM_MediaStorageSOPInstanceUID, request.AffectedSOPInstanceUID);
    meta.putAndInsertString(DCM_TransferSyntaxUID, syntax.c_str());
    meta.putAndInsertString(DCM_ImplementationClassUID, OFFIS_IMPLEMENTATION_CLASS_UID);
    meta.putAndInsertString(DCM_ImplementationVersionName, OFFIS_DTK_IMPLEMENTATION_VERSION_NAME);
    if (!source.empty()) meta.putAndInsertString(DCM_SourceApplicationEntityTitle, source.c_str());
    OFCondition status = meta.computeGroupLengthAndPadding(EGL_withGL, EPD_noChange, EXS_LittleEndianExplicit,
                                                           EET_UndefinedLength);
    if (status.bad()) return status;
    meta.transferInit();
    status = meta.write(out, EXS_LittleEndianExplicit, EET_ExplicitLength, nullptr);
    meta.transferEnd();
    return status;
}

}  // namespace

IncomingFile::~IncomingFile() {
    if (descriptor >= 0) ::close(descriptor);
    if (!handedOn && !path.empty()) ::unlink(path.c_str());
}

bool IncomingFile::create(const std::string &folder, const char *prefix) {
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now().time_since_epoch()).count();
    char name[4096];
    std::snprintf(name, sizeof name, "%s/%s-%d-%lu-%llx.tmp", folder.c_str(), prefix, static_cast<int>(getpid()),
                  sequence.fetch_add(1), static_cast<unsigned long long>(now));
    descriptor = ::open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (descriptor < 0) return false;
    path = name;
    return true;
}

void IncomingFile::close() {
    if (descriptor >= 0) ::close(descriptor);
    descriptor = -1;
}

ReceivedDataset receiveDataset(T_ASC_Association *association, T_DIMSE_BlockingMode mode, int timeout,
                               T_ASC_PresentationContextID context, const T_DIMSE_C_StoreRQ &request,
                               const std::string &syntax, const OFString &source, IncomingFile &file) {
    ReceivedDataset result;
    {
        FileOutputStream out(file.descriptor);
        OFCondition meta = writeMetaHeader(out, request, syntax, source);
        T_ASC_PresentationContextID received = context;
        result.network = DIMSE_receiveDataSetInFile(association, mode, timeout, &received, &out, nullptr, nullptr);
        result.written = result.network.good() && meta.good() && out.consumer().good() && received == context;
    }
    file.close();
    return result;
}

}  // namespace tessera
