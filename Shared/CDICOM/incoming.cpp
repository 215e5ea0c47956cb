// See incoming.hpp.
#include "incoming.hpp"

#include "dcmtk/dcmdata/dcostrma.h"

#include <openssl/evp.h>

#include <fcntl.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace tessera {

namespace {

/// Writes received PDV payloads to a file descriptor, gathered into large writes (a PDU is often 16 KB: one write
/// system call each would cost more than the copy), and computes the MD5 of every byte on the way (the blob's digest,
/// without reading the file back). Any write error is kept (DCMTK then drains the dataset).
///
/// After a first block, which goes through the page cache (the headers the pre-scanner and DCMTK read next are
/// there), whole blocks go straight from this buffer to the device with `O_DIRECT`, without the kernel's copy
/// into the page cache and its later write-back (a third of the CPU a received CT image cost). The tail that is not a
/// multiple of the alignment, and everything on a file system that is not a local disk's (ext4, XFS) or refuses
/// direct I/O, is written through the page cache. The caller's fsync makes both durable.
class FileConsumer : public DcmConsumer {
public:
    explicit FileConsumer(int descriptor)
        : descriptor_(descriptor), status_(EC_Normal), digest_(EVP_MD_CTX_new()), buffer_(threadBuffer()) {
        if (buffer_ == nullptr) status_ = makeOFCondition(OFM_dcmdata, 19, OF_error, std::strerror(ENOMEM));
        if (digest_ == nullptr || EVP_DigestInit_ex(digest_, EVP_md5(), nullptr) != 1) {
            EVP_MD_CTX_free(digest_);
            digest_ = nullptr;  // no digest: the blob store computes it from the file
        }
    }
    ~FileConsumer() override { EVP_MD_CTX_free(digest_); }
    FileConsumer(const FileConsumer &) = delete;
    FileConsumer &operator=(const FileConsumer &) = delete;

    OFBool good() const override { return status_.good(); }
    OFCondition status() const override { return status_; }
    OFBool isFlushed() const override { return OFTrue; }
    offile_off_t avail() const override { return 0x7FFFFFFF; }
    void flush() override {}

    offile_off_t write(const void *buffer, offile_off_t length) override {
        if (status_.bad() || length <= 0) return status_.good() ? length : 0;
        const unsigned char *bytes = static_cast<const unsigned char *>(buffer);
        size_t left = static_cast<size_t>(length);
        if (digest_ != nullptr && EVP_DigestUpdate(digest_, bytes, left) != 1) {
            EVP_MD_CTX_free(digest_);
            digest_ = nullptr;
        }
        while (status_.good() && left > 0) {
            const size_t room = limit_ - filled_, count = left < room ? left : room;
            std::memcpy(buffer_ + filled_, bytes, count);
            filled_ += count;
            bytes += count;
            left -= count;
            if (filled_ == limit_) {
                put(buffer_, filled_);
                filled_ = 0;
                if (limit_ == kFirst) {
                    direct();
                    limit_ = kGathered;
                }
            }
        }
        return status_.good() ? length : 0;
    }

    /// Writes what is gathered; true when every byte reached the file. `md5` is then its digest in lower-case
    /// hexadecimal, or empty when it could not be computed.
    bool finish(std::string &md5) {
        if (status_.good() && filled_ > 0) {
            const size_t aligned = direct_ ? filled_ - filled_ % kAlignment : 0;
            if (aligned > 0) put(buffer_, aligned);
            if (filled_ > aligned) {
                buffered();
                put(buffer_ + aligned, filled_ - aligned);
            }
            filled_ = 0;
        }
        md5.clear();
        if (status_.good() && digest_ != nullptr) {
            unsigned char value[EVP_MAX_MD_SIZE];
            unsigned int length = 0;
            if (EVP_DigestFinal_ex(digest_, value, &length) == 1 && length == 16) {
                static const char hex[] = "0123456789abcdef";
                for (unsigned int i = 0; i < length; ++i) {
                    md5.push_back(hex[value[i] >> 4]);
                    md5.push_back(hex[value[i] & 0x0F]);
                }
            }
        }
        return status_.good();
    }

private:
    /// The first block, written through the page cache: the headers the pre-scanner and DCMTK read next (a CT
    /// image's pixel data starts within its first few kilobytes).
    static constexpr size_t kFirst = 64 * 1024;
    /// Gathered bytes per write after the first block: like it, a multiple of the alignment direct I/O needs (file
    /// offsets stay aligned).
    static constexpr size_t kGathered = 256 * 1024;
    static constexpr size_t kAlignment = 4096;

    /// The gathering buffer of the calling thread (one receive at a time per association thread), allocated once:
    /// a fresh one per instance would cost its page faults every time. Null when it cannot be allocated.
    static unsigned char *threadBuffer() {
        struct Aligned {
            void *bytes = nullptr;
            Aligned() {
                if (posix_memalign(&bytes, kAlignment, kGathered) != 0) bytes = nullptr;
            }
            ~Aligned() { std::free(bytes); }
        };
        thread_local Aligned buffer;
        return static_cast<unsigned char *>(buffer.bytes);
    }

    /// Writes around the page cache from now on, on a local disk file system that allows it. Elsewhere (NFS, SMB,
    /// FUSE, overlay...) direct I/O may turn each block into a synchronous round trip to the server, or not be what
    /// the device does best: the file keeps going through the page cache there, as everything did before.
    void direct() {
        struct statfs system;
        if (::fstatfs(descriptor_, &system) != 0 || !localDisk(system.f_type)) return;
        const int flags = ::fcntl(descriptor_, F_GETFL);
        direct_ = flags != -1 && ::fcntl(descriptor_, F_SETFL, flags | O_DIRECT) == 0;
    }

    /// ext4 (measured here), XFS.
    static bool localDisk(decltype(statfs::f_type) type) {
        return type == 0xEF53 || type == 0x58465342;
    }

    /// Writes through the page cache from now on.
    void buffered() {
        if (!direct_) return;
        direct_ = false;
        const int flags = ::fcntl(descriptor_, F_GETFL);
        if (flags == -1 || ::fcntl(descriptor_, F_SETFL, flags & ~O_DIRECT) == -1) {
            status_ = makeOFCondition(OFM_dcmdata, 19, OF_error, std::strerror(errno));
        }
    }

    void put(const unsigned char *bytes, size_t length) {
        size_t done = 0;
        while (status_.good() && done < length) {
            ssize_t count = ::write(descriptor_, bytes + done, length - done);
            if (count < 0 && errno == EINTR) continue;
            if (direct_ && (count < 0 ? errno == EINVAL : static_cast<size_t>(count) < length - done)) {
                // Direct I/O refused (this file system, or an alignment it needs) or cut short: the rest goes
                // through the page cache.
                if (count > 0) done += static_cast<size_t>(count);
                buffered();
                continue;
            }
            if (count <= 0) {
                status_ = makeOFCondition(OFM_dcmdata, 19, OF_error, std::strerror(count < 0 ? errno : ENOSPC));
                break;
            }
            done += static_cast<size_t>(count);
        }
    }

    int descriptor_;
    bool direct_ = false;
    OFCondition status_;
    EVP_MD_CTX *digest_;
    unsigned char *buffer_;
    size_t filled_ = 0;
    /// Bytes gathered before the next write.
    size_t limit_ = kFirst;
};

class FileOutputStream : public DcmOutputStream {
public:
    explicit FileOutputStream(int descriptor) : DcmOutputStream(&consumer_), consumer_(descriptor) {}
    FileConsumer &consumer() { return consumer_; }

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
        out.flush();
        const bool complete = out.consumer().finish(result.md5);
        result.written = result.network.good() && meta.good() && complete && received == context;
    }
    file.close();
    return result;
}

}  // namespace tessera
