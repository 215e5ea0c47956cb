// The SCP of include/cdicom.h over DCMTK 3.6.7's dcmnet: C-ECHO, C-STORE, storage commitment reports, and C-FIND,
// C-MOVE, C-GET handed to the query/retrieve callback (answered through qr.cpp); access checks through a callback.
//
// DCMTK's own pool (DcmSCPPool) reads every association request on its one listener thread, so a single peer that
// connects and stays silent (or trickles bytes) holds every other modality back for the ACSE timeout, and longer; it
// also receives datasets into memory through its recursive parser. Here instead:
// - our thread accepts TCP connections and hands each socket to a thread of its own (DCMTK's external-socket path),
//   which reads the association request under an absolute deadline (ARTIM), then runs the association or refuses it
//   at once (A-ASSOCIATE-RJ, "local limit exceeded") when the maximum number of associations is reached; at most
//   256 connections may be reading their request at once, at most a quarter of them from one address;
// - every socket read goes through DeadlineConnection: a silence longer than the DIMSE timeout, or a C-STORE whose
//   dataset takes longer than the operation timeout, ends the association (a trickling peer frees its slot);
// - a C-STORE's dataset is written to an incoming file exactly as it arrived (DCMTK's meta header, then the PDV
//   payloads), never parsed here; a write error (full disk) drains the dataset and answers 0xA700;
// - stopping refuses new connections, lets requests in progress finish and be answered, and ends idle associations.
#include "include/cdicom.h"
#include "encode.hpp"
#include "incoming.hpp"
#include "internal.hpp"
#include "qr.hpp"

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dctk.h"
#include "dcmtk/dcmdata/dcostrma.h"
#include "dcmtk/dcmnet/dcmlayer.h"
#include "dcmtk/dcmnet/dcmtrans.h"
#include "dcmtk/dcmnet/dimse.h"
#include "dcmtk/dcmnet/diutil.h"
#include "dcmtk/dcmnet/dul.h"
#include "dcmtk/dcmnet/scpthrd.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <thread>
#include <vector>

using tessera::copyError;
using tessera::guarded;

struct Server;

namespace {

using Clock = std::chrono::steady_clock;

long long nowMilliseconds() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch()).count();
}

/// A TCP connection whose reads give up at an absolute deadline, after a silence longer than allowed within one read
/// (a PDU that stops half-way), or when the server stops while the association is idle. DUL turns a failed read into
/// "network closed" and the association ends cleanly.
class DeadlineConnection : public DcmTCPConnection {
public:
    DeadlineConnection(DcmNativeSocketType socket, long long deadline, int silenceMilliseconds,
                       const std::atomic<bool> &stopping)
        : DcmTCPConnection(socket), deadline_(deadline), silence_(silenceMilliseconds), stopping_(stopping) {}

    /// The association is established: no overall deadline while idle, silence up to `milliseconds`.
    void enterAssociation(int milliseconds) {
        silence_ = milliseconds;
        deadline_ = 0;
    }

    /// A request is being received and answered: it must be done within `seconds` (0: no limit), and a stop does not
    /// interrupt it.
    void beginOperation(unsigned seconds) {
        busy_ = true;
        deadline_ = seconds == 0 ? 0 : nowMilliseconds() + 1000LL * seconds;
    }

    /// The request was received and is being answered (a retrieve may last long): no overall deadline any more, each
    /// read (C-CANCEL, a C-GET's C-STORE responses) still bounded by the silence allowed; a stop does not interrupt it.
    void answering() { deadline_ = 0; }

    void endOperation() {
        deadline_ = 0;
        busy_ = false;
    }

    /// Serves what an earlier receive buffered, else receives: whatever the socket holds (up to the read-ahead
    /// buffer) in one call, so that a PDU header and its body, or several small PDUs, take one system call, and no poll
    /// precedes a receive that finds data waiting.
    ssize_t read(void *buffer, size_t count) override {
        long long lastActivity = nowMilliseconds();
        for (;;) {
            int wait = 0;
            if (!mayWait(lastActivity, wait)) return fail();
            if (begin_ < end_) return serve(buffer, count);
            if (ended_) {
                broken_ = true;
                return 0;
            }
            // A large read goes straight to the caller's buffer.
            ssize_t got = count >= kReadAhead / 2 ? receive(buffer, count) : fill();
            if (got > 0) return count >= kReadAhead / 2 ? got : serve(buffer, count);
            if (got == 0) {
                broken_ = true;
                return 0;
            }
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return fail();
            if (errno == EINTR) continue;
            struct pollfd descriptor = {getSocket(), POLLIN, 0};
            int ready = poll(&descriptor, 1, wait);
            if (ready < 0 && errno != EINTR) return fail();
        }
    }

    /// The read-ahead buffer holds data, so neither `select` nor `poll` on the socket tells whether reading would
    /// block: DCMTK must ask ``networkDataAvailable(_:)`` (as it does for TLS connections).
    OFBool isTransparentConnection() override { return OFFalse; }

    /// Whether a read failed (deadline, silence, stop) or met the end of the stream: DCMTK may still report an
    /// association request "received" when the peer vanished before sending one.
    bool isBroken() const { return broken_.load(); }

    /// DCMTK's own wait for data (its DIMSE and ARTIM timeouts): it ends early only at the deadline or when the
    /// server stops an idle association, by reporting data so that the read that follows fails at once.
    OFBool networkDataAvailable(int timeout) override {
        long long until = nowMilliseconds() + 1000LL * (timeout < 0 ? 0 : timeout);
        for (;;) {
            long long now = nowMilliseconds();
            long long deadline = deadline_.load();
            if (deadline != 0 && now >= deadline) return OFTrue;
            if (stopping_.load() && !busy_.load()) return OFTrue;
            // Data already received, or the end of the stream (the read that follows reports it).
            if (begin_ < end_ || ended_) return OFTrue;
            ssize_t got = fill();
            if (got >= 0) return OFTrue;
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return OFTrue;
            long long left = until - now;
            if (left <= 0) return OFFalse;
            long long wait = std::min(250LL, left);
            if (deadline != 0) wait = std::min(wait, deadline - now);
            struct pollfd descriptor = {getSocket(), POLLIN, 0};
            int ready = poll(&descriptor, 1, static_cast<int>(std::max(1LL, wait)));
            if (ready < 0 && errno != EINTR) return OFTrue;
        }
    }

private:
    /// The most one receive takes ahead of what DCMTK asked for.
    static constexpr size_t kReadAhead = 256 * 1024;

    /// Receives without blocking into the empty read-ahead buffer: the count received, 0 at the end of the stream
    /// (remembered), -1 with `errno` (`EAGAIN` when nothing is waiting, `ENOMEM` when the buffer cannot be had).
    ssize_t fill() {
        if (!readAhead_) readAhead_.reset(new (std::nothrow) char[kReadAhead]);
        if (!readAhead_) {
            errno = ENOMEM;
            return -1;
        }
        begin_ = end_ = 0;
        ssize_t got = receive(readAhead_.get(), kReadAhead);
        if (got > 0) end_ = static_cast<size_t>(got);
        if (got == 0) ended_ = true;
        return got;
    }

    ssize_t receive(void *buffer, size_t count) {
        return ::recv(getSocket(), buffer, count, MSG_DONTWAIT);
    }

    /// Copies buffered data (some is buffered) to DCMTK's buffer.
    ssize_t serve(void *buffer, size_t count) {
        size_t taken = std::min(count, end_ - begin_);
        std::memcpy(buffer, readAhead_.get() + begin_, taken);
        begin_ += taken;
        return static_cast<ssize_t>(taken);
    }

    ssize_t fail() {
        int saved = errno;
        broken_ = true;
        errno = saved;
        return -1;
    }

    /// Whether reading may go on, and for how long to poll before checking again.
    bool mayWait(long long lastActivity, int &wait) {
        long long now = nowMilliseconds();
        long long deadline = deadline_.load();
        if (deadline != 0 && now >= deadline) {
            errno = ETIMEDOUT;
            return false;
        }
        if (silence_ > 0 && now - lastActivity >= silence_) {
            errno = ETIMEDOUT;
            return false;
        }
        if (stopping_.load() && !busy_.load()) {
            errno = ECONNABORTED;
            return false;
        }
        long long slice = 250;
        if (deadline != 0) slice = std::min(slice, deadline - now);
        if (silence_ > 0) slice = std::min(slice, silence_ - (now - lastActivity));
        wait = static_cast<int>(std::max(1LL, slice));
        return true;
    }

    std::atomic<long long> deadline_;
    std::atomic<int> silence_;
    std::atomic<bool> busy_{false};
    std::atomic<bool> broken_{false};
    const std::atomic<bool> &stopping_;
    /// Received and not yet read by DCMTK: `[begin_, end_)` of `readAhead_` (only the association's thread reads).
    std::unique_ptr<char[]> readAhead_;
    size_t begin_ = 0;
    size_t end_ = 0;
    /// The peer closed its side: the reads that follow the buffered data report the end of the stream.
    bool ended_ = false;
};

/// Hands DCMTK a DeadlineConnection for every socket, and ends the connection thread's hand-over of its socket (see
/// `connectionThread`).
class DeadlineLayer : public DcmTransportLayer {
public:
    explicit DeadlineLayer(::Server &server) : server_(server) {}
    DcmTransportConnection *createConnection(DcmNativeSocketType socket, OFBool) override;

private:
    ::Server &server_;
};

}  // namespace

/// The server: configuration, the listening socket, and the threads of its connections.
struct Server {
    cdicom_store_callback callback = nullptr;
    /// Storage commitment reports (N-EVENT-REPORT); the Push Model is negotiated only when set.
    cdicom_commitment_callback commitment = nullptr;
    /// C-FIND, C-MOVE and C-GET; their models are negotiated only when set.
    cdicom_qr_callback query = nullptr;
    /// Who may associate and ask what (everyone, for everything, when not set).
    cdicom_access_callback access = nullptr;
    /// Unknown SOP classes accepted as storage (changeable while running).
    std::atomic<bool> unknownSOPClasses{false};
    /// Guards `syntaxes` while running (they may be replaced).
    std::mutex syntaxesLock;
    void *context = nullptr;
    std::string aeTitle;
    bool checkCalledAET = false;
    std::string incomingFolder;
    unsigned acseTimeout = 30, dimseTimeout = 30, operationTimeout = 600;
    unsigned maxAssociations = 32;
    /// Connections still reading their association request; beyond this many, new ones are closed at once.
    unsigned maxHandshakes = 256;
    uint16_t port = 0;
    /// Accepted transfer syntaxes (storage) and the uncompressed subset (verification), in order of preference.
    std::vector<std::string> syntaxes, uncompressed;
    std::vector<const char *> uncompressedPointers;

    DcmSCPConfig config;
    DcmSharedSCPConfig *shared = nullptr;
    T_ASC_Network *network = nullptr;
    DeadlineLayer layer{*this};
    int listening = -1;

    std::atomic<bool> stopping{false};
    std::atomic<unsigned> associations{0};
    /// Connections still reading their association request, in all and per peer address (under `threadsLock`).
    unsigned handshakes = 0;
    std::map<in_addr_t, unsigned> handshakesByPeer;
    std::mutex threadsLock;
    std::condition_variable threadsEnded;
    unsigned threads = 0;


    /// A peer address may hold this many handshakes at once (a quarter of all): one host cannot take every slot.
    unsigned maxHandshakesPerPeer() const { return std::max(4u, maxHandshakes / 4); }
};

/// DCMTK takes an accepted socket through a process-wide setting (dcmExternalSocketHandle). A connection thread sets
/// it under this lock and holds the lock until DCMTK has taken the socket over (createConnection, on the same thread,
/// before any network wait) or has failed before that, so a socket can never reach the wrong thread.
static std::mutex externalSocketLock;
/// On a connection thread: the hand-over lock while held, and the socket DCMTK took over.
static thread_local std::unique_lock<std::mutex> *heldHandover = nullptr;
static thread_local int takenSocket = -1;

/// Ends a hand-over on the calling thread (idempotent).
static void endHandover() {
    if (heldHandover != nullptr && heldHandover->owns_lock()) {
        dcmExternalSocketHandle.set(DCMNET_INVALID_SOCKET);
        heldHandover->unlock();
    }
}

DcmTransportConnection *DeadlineLayer::createConnection(DcmNativeSocketType socket, OFBool) {
    long long deadline = nowMilliseconds() + 1000LL * server_.acseTimeout;
    auto *connection = new DeadlineConnection(socket, deadline, static_cast<int>(1000 * server_.acseTimeout), server_.stopping);
    takenSocket = socket;
    endHandover();
    return connection;
}

namespace {

constexpr Uint16 kStatusOutOfResources = STATUS_STORE_Refused_OutOfResources;

class StoreWorker : public DcmThreadSCP {
public:
    explicit StoreWorker(Server &server) : server_(server) {}

    OFCondition run(T_ASC_Association *incoming) override {
        association_ = incoming;
        // A number for this association, unique in the process, that the log lines of its requests carry.
        static std::atomic<uint64_t> associations{0};
        associationID_ = associations.fetch_add(1, std::memory_order_relaxed) + 1;
        connection_ = dynamic_cast<DeadlineConnection *>(DUL_getTransportConnection(incoming->DULassociation));
        if (connection_ != nullptr) connection_->enterAssociation(static_cast<int>(1000 * server_.dimseTimeout));
        OFCondition result = EC_Normal;
        try {
            result = DcmThreadSCP::run(incoming);
        } catch (...) {
            // DCMTK ran out of memory (or worse) mid-association: its state is unknown, end it.
            ASC_abortAssociation(incoming);
            result = EC_MemoryExhausted;
        }
        association_ = nullptr;
        connection_ = nullptr;
        return result;
    }

protected:
    /// Orthanc's negotiation: every storage SOP class DCMTK knows (retired ones included, more than the 128
    /// presentation contexts a DCMTK profile may hold), each with every accepted transfer syntax, the first of
    /// ours that the SCU proposes winning; C-ECHO with the uncompressed syntaxes.
    OFCondition negotiateAssociation() override {
        if (association_ == nullptr) return DIMSE_ILLEGALASSOCIATION;
        const char *verification[] = {UID_VerificationSOPClass};
        OFCondition status = ASC_acceptContextsWithPreferredTransferSyntaxes(
            association_->params, verification, 1, const_cast<const char **>(server_.uncompressedPointers.data()),
            static_cast<int>(server_.uncompressedPointers.size()));
        if (status.bad()) return status;
        if (server_.commitment != nullptr) {
            // Storage commitment reports from peers we asked (N-EVENT-REPORT), in the uncompressed syntaxes; the
            // peer may propose to be the SCP of this class (the role it has when it reports), as Orthanc accepts.
            const char *commitment[] = {UID_StorageCommitmentPushModelSOPClass};
            status = ASC_acceptContextsWithPreferredTransferSyntaxes(
                association_->params, commitment, 1, const_cast<const char **>(server_.uncompressedPointers.data()),
                static_cast<int>(server_.uncompressedPointers.size()), ASC_SC_ROLE_SCUSCP);
            if (status.bad()) return status;
        }
        if (server_.query != nullptr) {
            static const char *models[] = {
                UID_FINDPatientRootQueryRetrieveInformationModel, UID_FINDStudyRootQueryRetrieveInformationModel,
                UID_MOVEPatientRootQueryRetrieveInformationModel, UID_MOVEStudyRootQueryRetrieveInformationModel,
                UID_GETPatientRootQueryRetrieveInformationModel, UID_GETStudyRootQueryRetrieveInformationModel};
            status = ASC_acceptContextsWithPreferredTransferSyntaxes(
                association_->params, models, static_cast<int>(sizeof(models) / sizeof(models[0])),
                const_cast<const char **>(server_.uncompressedPointers.data()),
                static_cast<int>(server_.uncompressedPointers.size()));
            if (status.bad()) return status;
        }
        return acceptStorage();
    }

    /// Every storage SOP class DCMTK knows, in the role the peer proposed (the SCP role of a C-GET requester is what
    /// lets its retrieve's C-STOREs come back on this association), the first of our syntaxes it proposes winning.
    OFCondition acceptStorage() {
        T_ASC_Parameters *params = association_->params;
        std::vector<std::string> syntaxes;
        {
            std::lock_guard<std::mutex> lock(server_.syntaxesLock);
            syntaxes = server_.syntaxes;
        }
        const bool unknown = server_.unknownSOPClasses.load();
        const int count = ASC_countPresentationContexts(params);
        for (int index = 0; index < count; ++index) {
            T_ASC_PresentationContext context;
            if (ASC_getPresentationContext(params, index, &context).bad()) continue;
            const bool storage = dcmIsaStorageSOPClassUID(context.abstractSyntax, ESSC_All);
            // UnknownSopClassAccepted: a class DCMTK cannot name is taken as storage, in the default role.
            if (!storage && !(unknown && dcmFindNameOfUID(context.abstractSyntax) == nullptr)) continue;
            const T_ASC_SC_ROLE role = storage ? context.proposedRole : ASC_SC_ROLE_DEFAULT;
            for (const std::string &syntax : syntaxes) {
                bool proposed = false;
                for (int candidate = 0; candidate < static_cast<int>(context.transferSyntaxCount); ++candidate) {
                    if (syntax == context.proposedTransferSyntaxes[candidate]) proposed = true;
                }
                if (!proposed) continue;
                OFCondition accepted = ASC_acceptPresentationContext(params, context.presentationContextID, syntax.c_str(),
                                                                     role);
                if (accepted.bad()) return accepted;
                break;
            }
        }
        return EC_Normal;
    }

    OFBool checkCalledAETitleAccepted(const OFString &calledAE) override {
        return !server_.checkCalledAET || calledAE == server_.aeTitle.c_str();
    }

    /// Orthanc's IsAllowedConnection, through the access callback.
    OFBool checkCallingAETitleAccepted(const OFString &callingAE) override {
        if (server_.access == nullptr || association_ == nullptr) return OFTrue;
        const std::string called = association_->params->DULparams.calledAPTitle;
        const std::string peer = association_->params->DULparams.callingPresentationAddress;
        return server_.access(server_.context, CDICOM_ACCESS_CONNECTION, callingAE.c_str(), called.c_str(),
                              peerAddress(peer).c_str()) != 0 ? OFTrue : OFFalse;
    }

    /// The association is established: the access callback may still refuse it, and it is aborted then.
    void notifyAssociationAcknowledge() override {
        DcmThreadSCP::notifyAssociationAcknowledge();
        if (server_.access == nullptr || association_ == nullptr) return;
        OFString calling = getPeerAETitle(), called = getCalledAETitle(), peer = getPeerIP();
        if (server_.access(server_.context, CDICOM_ACCESS_ESTABLISHED, calling.c_str(), called.c_str(), peer.c_str()) == 0) {
            ASC_abortAssociation(association_);
        }
    }

    /// The address without DCMTK's ":port" suffix.
    static std::string peerAddress(const std::string &presentation) {
        const size_t colon = presentation.rfind(':');
        return colon == std::string::npos ? presentation : presentation.substr(0, colon);
    }

    /// Orthanc's IsAllowedRequest; false also for commands nobody may send.
    bool allowed(const T_DIMSE_Message &message) {
        if (server_.access == nullptr) return true;
        int request = -1;
        switch (message.CommandField) {
        case DIMSE_C_ECHO_RQ: request = CDICOM_ACCESS_ECHO; break;
        case DIMSE_C_STORE_RQ: request = CDICOM_ACCESS_STORE; break;
        case DIMSE_C_FIND_RQ: request = CDICOM_ACCESS_FIND; break;
        case DIMSE_C_MOVE_RQ: request = CDICOM_ACCESS_MOVE; break;
        case DIMSE_C_GET_RQ: request = CDICOM_ACCESS_GET; break;
        case DIMSE_N_EVENT_REPORT_RQ: request = CDICOM_ACCESS_EVENT_REPORT; break;
        default: return true;  // refused by DcmSCP's own handling
        }
        OFString calling = getPeerAETitle(), called = getCalledAETitle(), peer = getPeerIP();
        return server_.access(server_.context, request, calling.c_str(), called.c_str(), peer.c_str()) != 0;
    }

    OFCondition handleIncomingCommand(T_DIMSE_Message *message, const DcmPresentationContextInfo &info) override {
        if (!allowed(*message)) {
            // As Orthanc: no answer, the association is aborted.
            return makeOFCondition(OFM_dcmnet, 1003, OF_error, "The request is not allowed for this peer");
        }
        if (connection_ != nullptr) connection_->beginOperation(server_.operationTimeout);
        OFCondition result = EC_Normal;
        if (message->CommandField == DIMSE_C_STORE_RQ) {
            result = handleStore(message->msg.CStoreRQ, info);
        } else if (message->CommandField == DIMSE_N_EVENT_REPORT_RQ && server_.commitment != nullptr &&
                   info.abstractSyntax == UID_StorageCommitmentPushModelSOPClass) {
            // Answered with the status checkEVENTREPORTRequest gets from the callback.
            DcmDataset *dataset = nullptr;
            Uint16 eventType = 0;
            result = handleEVENTREPORTRequest(message->msg.NEventReportRQ, info.presentationContextID, dataset, eventType);
            delete dataset;
        } else if (server_.query != nullptr && (message->CommandField == DIMSE_C_FIND_RQ ||
                                                message->CommandField == DIMSE_C_MOVE_RQ ||
                                                message->CommandField == DIMSE_C_GET_RQ)) {
            result = handleQuery(*message, info);
        } else {
            result = DcmThreadSCP::handleIncomingCommand(message, info);  // C-ECHO, and refusals of the rest
        }
        if (connection_ != nullptr) connection_->endOperation();
        // Stopping: the request was answered; end the association rather than wait for the next one.
        if (result.good() && server_.stopping.load()) {
            return makeOFCondition(OFM_dcmnet, 1000, OF_error, "The DICOM server is stopping");
        }
        return result;
    }

    /// A storage commitment report: handed to the callback (encoded as a DICOM file), whose status is the answer.
    Uint16 checkEVENTREPORTRequest(T_DIMSE_N_EventReportRQ &request, DcmDataset *dataset) override {
        std::vector<uint8_t> bytes;
        if (dataset == nullptr || !tessera::encodeDataset(dataset, bytes)) return STATUS_N_InvalidArgumentValue;
        OFString calling = getPeerAETitle();
        return server_.commitment(server_.context, calling.c_str(), request.EventTypeID, bytes.data(), bytes.size());
    }

private:
    OFCondition handleStore(T_DIMSE_C_StoreRQ &request, const DcmPresentationContextInfo &info) {
        tessera::IncomingFile file;
        if (!file.create(server_.incomingFolder, "scp")) return refuseDataset(info, request);
        Uint16 status = kStatusOutOfResources;
        const tessera::ReceivedDataset dataset = tessera::receiveDataset(
            association_, getDIMSEBlockingMode(), static_cast<int>(getDIMSETimeout()), info.presentationContextID,
            request, info.acceptedTransferSyntax.c_str(), getPeerAETitle(), file);
        const OFCondition &received = dataset.network;
        const bool written = dataset.written;
        if (received.bad() && !(received.module() == OFM_dcmnet && received.code() == DIMSEC_OUTOFRESOURCES)) {
            return received;  // the network failed mid-dataset: the association is over (the file goes)
        }
        if (written) {
            OFString calling = getPeerAETitle(), called = getCalledAETitle(), peer = getPeerIP();
            cdicom_received_instance instance;
            instance.path = file.path.c_str();
            instance.calling_aet = calling.c_str();
            instance.called_aet = called.c_str();
            instance.peer_ip = peer.c_str();
            instance.sop_class_uid = request.AffectedSOPClassUID;
            instance.sop_instance_uid = request.AffectedSOPInstanceUID;
            instance.association_id = associationID_;
            instance.md5 = dataset.md5.empty() ? nullptr : dataset.md5.c_str();
            // The callback owns the file from here: it adopts it as a blob or removes it.
            file.handedOn = true;
            status = server_.callback(server_.context, &instance);
        }
        // Else it could not be written (full disk): the dataset was drained, the modality may retry; the file goes.
        return sendSTOREResponse(info.presentationContextID, request, status);
    }

    /// A C-FIND, C-MOVE or C-GET: its identifier is received, then the callback answers it (cdicom_qr_ calls).
    OFCondition handleQuery(T_DIMSE_Message &message, const DcmPresentationContextInfo &info) {
        cdicom_qr qr;
        qr.association = association_;
        qr.presentation = info.presentationContextID;
        qr.mode = getDIMSEBlockingMode();
        qr.timeout = static_cast<int>(getDIMSETimeout());
        std::string destination;
        const char *sopClass = "";
        Uint16 messageID = 0;
        switch (message.CommandField) {
        case DIMSE_C_FIND_RQ:
            qr.command = CDICOM_QR_FIND;
            qr.find = message.msg.CFindRQ;
            sopClass = qr.find.AffectedSOPClassUID;
            messageID = qr.find.MessageID;
            break;
        case DIMSE_C_MOVE_RQ:
            qr.command = CDICOM_QR_MOVE;
            qr.move = message.msg.CMoveRQ;
            sopClass = qr.move.AffectedSOPClassUID;
            messageID = qr.move.MessageID;
            destination = qr.move.MoveDestination;
            break;
        default:
            qr.command = CDICOM_QR_GET;
            qr.get = message.msg.CGetRQ;
            sopClass = qr.get.AffectedSOPClassUID;
            messageID = qr.get.MessageID;
            break;
        }
        T_ASC_PresentationContextID presentation = info.presentationContextID;
        DcmDataset *identifier = nullptr;
        OFCondition received = DIMSE_receiveDataSetInMemory(association_, qr.mode, qr.timeout, &presentation, &identifier,
                                                            nullptr, nullptr);
        if (received.bad()) {
            delete identifier;
            return received;
        }
        qr.identifier = identifier;
        if (connection_ != nullptr) connection_->answering();
        std::vector<uint8_t> bytes;
        if (identifier == nullptr || !tessera::encodeDataset(identifier, bytes)) {
            cdicom_qr_finish(&qr, STATUS_FIND_Failed_IdentifierDoesNotMatchSOPClass, 0, 0, 0, 0, nullptr,
                             "The identifier cannot be read");
        } else {
            OFString calling = getPeerAETitle(), called = getCalledAETitle(), peer = getPeerIP();
            cdicom_qr_request request;
            request.command = qr.command;
            request.sop_class_uid = sopClass;
            request.calling_aet = calling.c_str();
            request.called_aet = called.c_str();
            request.peer_ip = peer.c_str();
            request.move_destination = destination.c_str();
            request.message_id = messageID;
            request.association_id = associationID_;
            request.identifier = bytes.data();
            request.identifier_length = bytes.size();
            server_.query(server_.context, &qr, &request);
            tessera::finishUnanswered(qr);
        }
        delete identifier;
        qr.identifier = nullptr;
        return qr.broken ? makeOFCondition(OFM_dcmnet, 1002, OF_error, "The association failed while answering")
                         : EC_Normal;
    }

    /// No incoming file could be created: drain the dataset and answer "out of resources".
    OFCondition refuseDataset(const DcmPresentationContextInfo &info, T_DIMSE_C_StoreRQ &request) {
        DIC_UL bytes = 0, fragments = 0;
        OFCondition drained = DIMSE_ignoreDataSet(association_, getDIMSEBlockingMode(), static_cast<int>(getDIMSETimeout()),
                                                  &bytes, &fragments);
        if (drained.bad()) return drained;
        return sendSTOREResponse(info.presentationContextID, request, kStatusOutOfResources);
    }

    Server &server_;
    T_ASC_Association *association_ = nullptr;
    uint64_t associationID_ = 0;
    DeadlineConnection *connection_ = nullptr;
};

/// Gives a connection's handshake slots back (total and per peer) and wakes `cdicom_scp_run` when the last thread
/// of the server ends. Everything under `threadsLock`, the notification included: once `threads` reaches 0 the
/// server may be destroyed.
void endHandshake(Server *server, in_addr_t peer) {
    std::lock_guard<std::mutex> lock(server->threadsLock);
    server->handshakes -= 1;
    auto found = server->handshakesByPeer.find(peer);
    if (found != server->handshakesByPeer.end() && --found->second == 0) server->handshakesByPeer.erase(found);
}

/// Takes an association slot, unless the server is stopping or every slot is taken.
bool admit(Server *server) {
    if (server->stopping.load()) return false;
    if (server->associations.fetch_add(1) < server->maxAssociations) return true;
    server->associations.fetch_sub(1);
    return false;
}

void endThread(Server *server) {
    std::lock_guard<std::mutex> lock(server->threadsLock);
    server->threads -= 1;
    server->threadsEnded.notify_all();
}

/// One accepted connection: hands its socket to DCMTK and reads the association request, then runs the association,
/// or refuses it when the maximum is reached or the server is stopping.
void connectionThread(Server *server, int socket, in_addr_t peer) {
    T_ASC_Association *association = nullptr;
    OFCondition received = EC_Normal;
    {
        std::unique_lock<std::mutex> handover(externalSocketLock);
        heldHandover = &handover;
        takenSocket = -1;
        dcmExternalSocketHandle.set(socket);
        received = guarded(OFCondition(EC_MemoryExhausted), [&] {
            return ASC_receiveAssociation(server->network, &association, server->config.getMaxReceivePDULength(), nullptr,
                                          nullptr, OFTrue, DUL_NOBLOCK, 1);
        });
        endHandover();  // DCMTK failed before taking the socket over: the lock is still ours
        heldHandover = nullptr;
    }
    // Whoever does not own the socket must not close it; whoever does must.
    const bool taken = takenSocket == socket;
    if (!taken) ::close(socket);
    endHandshake(server, peer);
    auto *connection = association == nullptr || association->DULassociation == nullptr ? nullptr
        : dynamic_cast<DeadlineConnection *>(DUL_getTransportConnection(association->DULassociation));
    if (received.good() && (connection == nullptr || connection->isBroken())) {
        // The peer went silent or away before its request: DCMTK's state machine calls that a normal end.
        received = makeOFCondition(OFM_dcmnet, 1001, OF_error, "no association request before the ARTIM timeout");
    }
    if (received.bad() || association == nullptr) {
        if (association != nullptr) {
            guarded(0, [&] {
                ASC_dropAssociation(association);
                ASC_destroyAssociation(&association);
                return 0;
            });
        }
    } else if (!admit(server)) {
        T_ASC_RejectParameters reject = {ASC_RESULT_REJECTEDTRANSIENT, ASC_SOURCE_SERVICEPROVIDER_PRESENTATION_RELATED,
                                         ASC_REASON_SP_PRES_LOCALLIMITEXCEEDED};
        guarded(0, [&] {
            ASC_rejectAssociation(association, &reject);
            ASC_dropAssociation(association);
            ASC_destroyAssociation(&association);
            return 0;
        });
    } else {
        guarded(0, [&] {
            StoreWorker worker(*server);
            worker.setSharedConfig(*server->shared);
            worker.run(association);  // the worker drops and destroys the association when it goes
            return 0;
        });
        server->associations.fetch_sub(1);
    }
    endThread(server);
}

/// Starts a connection thread for an accepted socket, unless too many connections (in all, or from this peer) are
/// still reading their association request; then the socket is closed at once.
void dispatch(Server &server, int socket, in_addr_t peer) {
    {
        std::lock_guard<std::mutex> lock(server.threadsLock);
        unsigned &fromPeer = server.handshakesByPeer[peer];
        if (server.handshakes >= server.maxHandshakes || fromPeer >= server.maxHandshakesPerPeer()) {
            if (fromPeer == 0) server.handshakesByPeer.erase(peer);
            ::close(socket);
            return;
        }
        fromPeer += 1;
        server.handshakes += 1;
        server.threads += 1;
    }
    try {
        std::thread(connectionThread, &server, socket, peer).detach();
    } catch (...) {
        ::close(socket);
        endHandshake(&server, peer);
        endThread(&server);
    }
}

}  // namespace

struct cdicom_scp {
    Server server;
};

extern "C" {

cdicom_scp *cdicom_scp_create(const cdicom_scp_options *options, cdicom_store_callback callback, void *context,
                              char *error, size_t error_length) {
    return guarded<cdicom_scp *>(nullptr, error, error_length, [&]() -> cdicom_scp * {
        if (options == nullptr || options->ae_title == nullptr || options->incoming_folder == nullptr) {
            copyError(error, error_length, "missing options");
            return nullptr;
        }
        auto *scp = new cdicom_scp();
        Server &server = scp->server;
        server.callback = callback;
        server.context = context;
        server.aeTitle = options->ae_title;
        server.checkCalledAET = options->check_called_aet != 0;
        server.incomingFolder = options->incoming_folder;
        server.acseTimeout = std::max(1u, options->acse_timeout_seconds);
        server.dimseTimeout = std::max(1u, options->dimse_timeout_seconds);
        server.operationTimeout = options->operation_timeout_seconds;
        server.maxAssociations = std::max<unsigned>(1, options->max_associations);
        server.port = options->port;
        for (size_t i = 0; i < options->transfer_syntax_count; ++i) {
            std::string uid(options->transfer_syntaxes[i]);
            server.syntaxes.push_back(uid);
            if (uid == UID_LittleEndianExplicitTransferSyntax || uid == UID_LittleEndianImplicitTransferSyntax ||
                uid == UID_BigEndianExplicitTransferSyntax) {
                server.uncompressed.push_back(uid);
            }
        }
        if (server.syntaxes.empty()) {
            copyError(error, error_length, "no transfer syntax accepted");
            delete scp;
            return nullptr;
        }
        if (server.uncompressed.empty()) server.uncompressed.push_back(UID_LittleEndianImplicitTransferSyntax);
        for (const std::string &uid : server.uncompressed) server.uncompressedPointers.push_back(uid.c_str());

        DcmSCPConfig &config = server.config;
        config.setPort(options->port);
        config.setAETitle(options->ae_title);
        config.setRespondWithCalledAETitle(OFTrue);
        config.setHostLookupEnabled(OFFalse);
        config.setACSETimeout(server.acseTimeout);
        config.setDIMSETimeout(server.dimseTimeout);
        config.setDIMSEBlockingMode(DIMSE_NONBLOCKING);
        if (options->max_pdu > 0) config.setMaxReceivePDULength(options->max_pdu);
        // The workers negotiate themselves (StoreWorker::negotiateAssociation); DcmSCP still wants a valid profile.
        OFList<OFString> verification;
        for (const std::string &uid : server.uncompressed) verification.push_back(uid.c_str());
        const OFString profile = "Tessera";
        OFCondition status = config.addPresentationContext(UID_VerificationSOPClass, verification, ASC_SC_ROLE_DEFAULT, profile);
        if (status.good()) status = config.setAndCheckAssociationProfile(profile);
        if (status.bad()) {
            copyError(error, error_length, std::string("association configuration: ") + status.text());
            delete scp;
            return nullptr;
        }
        server.shared = new DcmSharedSCPConfig(config);
        return scp;
    });
}

void cdicom_scp_set_commitment_callback(cdicom_scp *scp, cdicom_commitment_callback callback) {
    if (scp != nullptr) scp->server.commitment = callback;
}

void cdicom_scp_set_qr_callback(cdicom_scp *scp, cdicom_qr_callback callback) {
    if (scp != nullptr) scp->server.query = callback;
}

void cdicom_scp_set_access_callback(cdicom_scp *scp, cdicom_access_callback callback) {
    if (scp != nullptr) scp->server.access = callback;
}

void cdicom_scp_set_accepted_syntaxes(cdicom_scp *scp, const char *const *transfer_syntaxes, size_t count) {
    if (scp == nullptr || (transfer_syntaxes == nullptr && count > 0)) return;
    guarded(0, [&] {
        std::vector<std::string> syntaxes;
        for (size_t index = 0; index < count; ++index) syntaxes.emplace_back(transfer_syntaxes[index]);
        std::lock_guard<std::mutex> lock(scp->server.syntaxesLock);
        scp->server.syntaxes = std::move(syntaxes);
        return 0;
    });
}

void cdicom_scp_set_unknown_sop_classes_accepted(cdicom_scp *scp, int accepted) {
    if (scp != nullptr) scp->server.unknownSOPClasses = accepted != 0;
}

int cdicom_scp_run(cdicom_scp *scp, char *error, size_t error_length) {
    if (scp == nullptr) return 1;
    return guarded(1, error, error_length, [&] {
        Server &server = scp->server;
        // IPv4, as DCMTK's own acceptor (RemoteIP then reads "127.0.0.1", not "::ffff:127.0.0.1").
        int listening = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (listening < 0) {
            copyError(error, error_length, std::string("socket: ") + std::strerror(errno));
            return 1;
        }
        int yes = 1;
        setsockopt(listening, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_ANY);
        address.sin_port = htons(server.port);
        if (::bind(listening, reinterpret_cast<sockaddr *>(&address), sizeof address) != 0 || ::listen(listening, 128) != 0) {
            copyError(error, error_length, "cannot listen on port " + std::to_string(server.port) + ": " + std::strerror(errno));
            ::close(listening);
            return 1;
        }
        // A network in acceptor mode that does not listen itself: while the external socket handle is set at creation,
        // DCMTK opens no listening socket of its own.
        OFCondition status = EC_Normal;
        {
            std::lock_guard<std::mutex> handover(externalSocketLock);
            dcmExternalSocketHandle.set(listening);
            status = ASC_initializeNetwork(NET_ACCEPTOR, server.port, static_cast<int>(server.acseTimeout), &server.network);
            dcmExternalSocketHandle.set(DCMNET_INVALID_SOCKET);
        }
        if (status.good()) status = ASC_setTransportLayer(server.network, &server.layer, 0);
        if (status.bad()) {
            copyError(error, error_length, std::string("network: ") + status.text());
            ::close(listening);
            return 1;
        }
        server.listening = listening;
        while (!server.stopping.load()) {
            struct pollfd descriptor = {listening, POLLIN, 0};
            int ready = poll(&descriptor, 1, 250);
            if (ready <= 0) continue;
            sockaddr_in peer{};
            socklen_t peerLength = sizeof peer;
            int socket = ::accept4(listening, reinterpret_cast<sockaddr *>(&peer), &peerLength, SOCK_CLOEXEC);
            if (socket < 0) {
                if (errno == EMFILE || errno == ENFILE) std::this_thread::sleep_for(std::chrono::milliseconds(100));
                continue;
            }
            if (server.stopping.load()) {
                ::close(socket);
                continue;
            }
            dispatch(server, socket, peer.sin_addr.s_addr);
        }
        ::close(listening);
        server.listening = -1;
        // Requests in progress finish and are answered; idle associations end within a quarter of a second.
        std::unique_lock<std::mutex> lock(server.threadsLock);
        server.threadsEnded.wait(lock, [&] { return server.threads == 0; });
        lock.unlock();
        ASC_dropNetwork(&server.network);
        return 0;
    });
}

void cdicom_scp_stop(cdicom_scp *scp) {
    if (scp != nullptr) scp->server.stopping = true;
}

int cdicom_scp_active_associations(const cdicom_scp *scp) {
    return scp == nullptr ? 0 : static_cast<int>(scp->server.associations.load());
}

void cdicom_scp_destroy(cdicom_scp *scp) {
    if (scp == nullptr) return;
    delete scp->server.shared;
    delete scp;
}

}  // extern "C"
