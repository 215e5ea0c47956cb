// CDICOM: the narrow plain-C surface over DCMTK 3.6.7 that the Swift module `DICOM` uses.
// Nothing else in Tessera includes DCMTK headers. All functions are safe to call from any thread
// except cdicom_global_init (call it once, first). Objects are not shared between threads.
#ifndef TESSERA_CDICOM_H
#define TESSERA_CDICOM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Configures DCMTK logging and registers the JPEG, JPEG-LS and RLE decoders and encoders. Call once, before any
/// thread starts.
void cdicom_global_init(int verbose);

/// 1 when the DICOM data dictionary is loaded (needed to parse files).
int cdicom_dictionary_loaded(void);

/// Frees memory returned by this library (strings).
void cdicom_free(void *pointer);

/// Looks a tag up in the data dictionary by keyword ("PatientName") or by "gggg,eeee" hex form. Writes the tag and
/// its value representation ("PN"; "UN" when the dictionary does not know a hex tag). Returns 0 when unknown.
int cdicom_dictionary_lookup(const char *name, uint16_t *group, uint16_t *element, char vr[3]);

/// Writes the dictionary keyword of a tag into `name` (NUL-terminated). Returns 0 when the tag is unknown.
int cdicom_dictionary_name(uint16_t group, uint16_t element, char *name, size_t length);

/// The storage SOP classes DCMTK knows (dcmAllStorageSOPClassUIDs, retired ones included): their count, and the UID
/// at `index` (NULL past the end). These are the classes the C-STORE SCP accepts.
int cdicom_storage_sop_class_count(void);
const char *cdicom_storage_sop_class(int index);

/// Writes DCMTK's symbolic name of a UID ("CTImageStorage") into `name`. Returns 0 when DCMTK does not know it.
int cdicom_uid_name(const char *uid, char *name, size_t length);

// MARK: - Files and datasets

/// A parsed DICOM file (owns a DcmFileFormat).
typedef struct cdicom_file cdicom_file;
/// A dataset, the meta header or a sequence item inside a cdicom_file; valid as long as the file is.
typedef struct cdicom_item cdicom_item;

/// Why cdicom_file_parse or cdicom_file_load returned NULL.
typedef enum {
    /// The input is not DICOM, is truncated, or is beyond the structural limits (nesting, elements, inflated size).
    CDICOM_PARSE_INVALID = 1,
    /// The process had no memory to spare for this parse in time (other parses hold it): the input may be fine,
    /// try again later.
    CDICOM_PARSE_BUSY = 2,
    /// The file could not be opened or mapped (missing, not a regular file).
    CDICOM_PARSE_UNREADABLE = 3,
} cdicom_parse_failure;

/// Parses a Part-10 file (or a bare dataset) held in memory; every value is read.
/// Returns NULL, sets `failure` (may be NULL) and fills `error` when it cannot.
cdicom_file *cdicom_file_parse(const uint8_t *bytes, size_t length, int *failure, char *error, size_t error_length);

/// Loads a file from disk; values longer than max_read_length bytes are loaded only when accessed.
/// Returns NULL, sets `failure` (may be NULL) and fills `error` when it cannot.
cdicom_file *cdicom_file_load(const char *path, uint32_t max_read_length, int *failure, char *error,
                              size_t error_length);

void cdicom_file_free(cdicom_file *file);

/// The Pixel Data element of the main dataset: its value length (0xFFFFFFFF when encapsulated) and, when encapsulated,
/// the number of its items (basic offset table included; -1 otherwise). Returns 0 when there is no Pixel Data.
int cdicom_file_pixel_data(const cdicom_file *file, int64_t *length, long *fragments);

/// The main dataset of the file.
const cdicom_item *cdicom_file_dataset(const cdicom_file *file);

/// The file meta information (group 0002); empty for a bare dataset.
const cdicom_item *cdicom_file_meta(const cdicom_file *file);

/// 1 when the element exists in this item (not searched in sub-sequences).
int cdicom_item_contains(const cdicom_item *item, uint16_t group, uint16_t element);

/// The element's value representation as two letters ("PN", "SQ", ...). Returns 0 when absent.
int cdicom_item_vr(const cdicom_item *item, uint16_t group, uint16_t element, char vr[3]);

/// The element's whole value as a string (all values joined with '\', trailing padding removed).
/// Returns 1 and a string to release with cdicom_free, or 0 when absent or not representable as text.
int cdicom_item_string(const cdicom_item *item, uint16_t group, uint16_t element, char **value);

/// The element's value at `position` as a float (FL, FD, DS, and integer VRs). Returns 1 on success.
int cdicom_item_float64(const cdicom_item *item, uint16_t group, uint16_t element, unsigned long position, double *value);

/// The element's value at `position` as an integer (US, SS, UL, SL, IS). Returns 1 on success.
int cdicom_item_int64(const cdicom_item *item, uint16_t group, uint16_t element, unsigned long position, int64_t *value);

/// Number of items of a sequence element, or -1 when the element is absent or not a sequence.
long cdicom_item_sequence_count(const cdicom_item *item, uint16_t group, uint16_t element);

/// Item `index` of a sequence element, or NULL.
const cdicom_item *cdicom_item_sequence_item(const cdicom_item *item, uint16_t group, uint16_t element, unsigned long index);

// MARK: - Walking a dataset element by element (Orthanc's DICOM-as-JSON)

/// One element of an item, as seen by cdicom_item_element_at.
typedef struct {
    uint16_t group;
    uint16_t element;
    /// Value representation as two letters ("PN", "SQ", "OB", ...).
    char vr[3];
    /// 1 for a sequence (its items through cdicom_item_element_item).
    int is_sequence;
} cdicom_element_info;

/// Converts text values from a dataset's SpecificCharacterSet to UTF-8. Not thread-safe: one per thread.
typedef struct cdicom_charset cdicom_charset;

/// Prepares a conversion from `specific_character_set` (the value of (0008,0005); empty means Latin-1, Orthanc's
/// default encoding). Returns NULL when DCMTK cannot convert from it.
cdicom_charset *cdicom_charset_create(const char *specific_character_set, char *error, size_t error_length);

void cdicom_charset_free(cdicom_charset *charset);

/// Number of elements in the item.
unsigned long cdicom_item_element_count(const cdicom_item *item);

/// The tag, VR and kind of the element at `index`. Returns 0 when out of range.
int cdicom_item_element_at(const cdicom_item *item, unsigned long index, cdicom_element_info *info);

/// The dictionary name of the element at `index` ("Unknown Tag & Data" when unknown) and its private creator
/// (NULL when none). Both strings are released with cdicom_free. Returns 0 when out of range.
int cdicom_item_element_name(const cdicom_item *item, unsigned long index, char **name, char **private_creator);

/// The element's value as Orthanc shows it: text VRs as stored (converted to UTF-8 with `charset` when not NULL,
/// otherwise non-ASCII bytes removed), numbers formatted as Orthanc does and joined with '\', an attribute tag as
/// "gggg,eeee". Returns 1 with a string to release with cdicom_free (and its length), or 0 for binary and
/// other values that Orthanc shows as null.
int cdicom_item_element_text(const cdicom_item *item, unsigned long index, const cdicom_charset *charset,
                             char **value, size_t *length);

/// The same as cdicom_item_element_text, for the element with this tag in `item`. Returns 0 when absent.
int cdicom_item_text(const cdicom_item *item, uint16_t group, uint16_t element, const cdicom_charset *charset,
                     char **value, size_t *length);

/// Number of items of the sequence at `index`, or -1 when it is not a sequence.
long cdicom_item_element_item_count(const cdicom_item *item, unsigned long index);

/// Item `item_index` of the sequence at `index`, or NULL.
const cdicom_item *cdicom_item_element_item(const cdicom_item *item, unsigned long index, unsigned long item_index);

/// The element's value as stored: padding kept, binary values in little-endian order (Orthanc's
/// `/instances/{id}/content/...`). For encapsulated pixel data, `fragment` selects an item (0 is the basic offset
/// table); -1 is the element's own value. Returns 1 with bytes to release with cdicom_free, 0 when unavailable.
int cdicom_item_element_raw(const cdicom_item *item, unsigned long index, long fragment, uint8_t **bytes, size_t *length);

/// Number of items of encapsulated pixel data at `index` (offset table included), or -1 when the element is not
/// encapsulated pixel data of the main dataset.
long cdicom_item_element_fragment_count(const cdicom_item *item, unsigned long index);

// MARK: - DICOMDIR (media)

/// A DICOMDIR being built (DCMTK's DcmDicomDir), with Orthanc's record layout: PATIENT, STUDY, SERIES, IMAGE.
typedef struct cdicom_dicomdir cdicom_dicomdir;

/// Starts a DICOMDIR to be written at `path` (File-set ID "ORTHANC_MEDIA"); `extended` adds SeriesDescription.
cdicom_dicomdir *cdicom_dicomdir_create(const char *path, int extended, char *error, size_t error_length);

/// Adds the Part-10 file at `file_path`, referenced as `file_id` (components separated by '\\'). Returns 0 with a
/// reason when the file cannot be referenced (no meta header, for instance).
int cdicom_dicomdir_add(cdicom_dicomdir *dir, const char *file_path, const char *file_id, char *error, size_t error_length);

/// Writes the DICOMDIR (Explicit VR Little Endian). Returns 0 with a reason on failure.
int cdicom_dicomdir_write(cdicom_dicomdir *dir, char *error, size_t error_length);

void cdicom_dicomdir_free(cdicom_dicomdir *dir);

// MARK: - Network: C-STORE / C-ECHO SCP

/// One instance received by C-STORE: the incoming file its dataset was written to, as it arrived (DCMTK's meta
/// header, then the dataset's bytes). The callback owns the file (it adopts or removes it). Valid during the callback.
typedef struct {
    const char *path;
    const char *calling_aet;
    const char *called_aet;
    const char *peer_ip;
    const char *sop_class_uid;
    const char *sop_instance_uid;
    /// The association's number in this process (for logs); 0 when the instance came on an association we opened.
    uint64_t association_id;
    /// The MD5 of the file in lower-case hexadecimal, computed as it was written; NULL when unknown.
    const char *md5;
} cdicom_received_instance;

/// Called on the association's thread for every C-STORE request whose dataset was received; returns the DIMSE status
/// to answer. The callback may block until the instance is durable.
typedef uint16_t (*cdicom_store_callback)(void *context, const cdicom_received_instance *instance);

/// Called with each N-EVENT-REPORT of the Storage Commitment Push Model the SCP receives (a storage commitment report):
/// the calling AE title, the event type (1: every instance committed, 2: some failed) and the dataset as a DICOM file
/// in memory (explicit VR little endian). Returns the DIMSE status to answer. Runs on the association's thread.
typedef uint16_t (*cdicom_commitment_callback)(void *context, const char *calling_aet, uint16_t event_type,
                                               const uint8_t *bytes, size_t length);

typedef struct {
    uint16_t port;
    const char *ae_title;
    /// Maximum concurrent associations (one thread each); beyond it associations are rejected at once
    /// (A-ASSOCIATE-RJ, transient, "local limit exceeded").
    uint16_t max_associations;
    /// Transfer syntax UIDs accepted for every storage SOP class DCMTK knows, in order of preference.
    /// C-ECHO is accepted in the uncompressed ones.
    const char *const *transfer_syntaxes;
    size_t transfer_syntax_count;
    /// Refuse associations whose called AE title is not ae_title (Orthanc's DicomCheckCalledAet).
    int check_called_aet;
    /// Time allowed for the association request to arrive after the TCP connection (ARTIM).
    uint32_t acse_timeout_seconds;
    /// Longest silence of an established association (between requests, or within one) before it is aborted.
    uint32_t dimse_timeout_seconds;
    /// Time one request (a C-STORE's whole dataset) may take to arrive; 0 for no limit.
    uint32_t operation_timeout_seconds;
    uint32_t max_pdu;
    /// Folder where received datasets are written (on the file system of the blob store).
    const char *incoming_folder;
} cdicom_scp_options;

typedef struct cdicom_scp cdicom_scp;

/// Creates the SCP. Returns NULL and fills `error` on failure.
cdicom_scp *cdicom_scp_create(const cdicom_scp_options *options, cdicom_store_callback callback, void *context,
                              char *error, size_t error_length);

/// Accepts storage commitment reports (N-EVENT-REPORT of the Storage Commitment Push Model), handed to `callback`
/// with the context given to cdicom_scp_create. Call before cdicom_scp_run.
void cdicom_scp_set_commitment_callback(cdicom_scp *scp, cdicom_commitment_callback callback);

/// What the access callback is asked about.
enum {
    /// An association request (Orthanc's IsAllowedConnection): refused with "calling AE title not recognized".
    CDICOM_ACCESS_CONNECTION = 0,
    CDICOM_ACCESS_ECHO = 1,
    CDICOM_ACCESS_STORE = 2,
    CDICOM_ACCESS_FIND = 3,
    CDICOM_ACCESS_MOVE = 4,
    CDICOM_ACCESS_GET = 5,
    CDICOM_ACCESS_EVENT_REPORT = 6,
    /// The association was just accepted (A-ASSOCIATE-AC sent): refusing aborts it at once (A-ABORT), as an edge
    /// receiver does with called AE titles that name no datashare.
    CDICOM_ACCESS_ESTABLISHED = 7,
};

/// Decides whether a peer may open an association or send a request (one of CDICOM_ACCESS_); non-zero allows. A
/// refused request aborts the association (A-ABORT), as Orthanc does. Runs on the association's thread, for every
/// request: it must be quick.
typedef int (*cdicom_access_callback)(void *context, int request, const char *calling_aet, const char *called_aet,
                                      const char *peer_ip);

/// Checks every association and request with `callback` (the context given to cdicom_scp_create). Call before
/// cdicom_scp_run.
void cdicom_scp_set_access_callback(cdicom_scp *scp, cdicom_access_callback callback);

/// Replaces the transfer syntaxes accepted for storage by new associations (none: storage is refused). Thread-safe.
void cdicom_scp_set_accepted_syntaxes(cdicom_scp *scp, const char *const *transfer_syntaxes, size_t count);

/// Whether new associations accept SOP classes DCMTK does not know, as storage (Orthanc's UnknownSopClassAccepted).
/// Thread-safe.
void cdicom_scp_set_unknown_sop_classes_accepted(cdicom_scp *scp, int accepted);

/// Listens and serves associations until cdicom_scp_stop. Blocking: run it on a dedicated thread. Returns 0 after a
/// stop, once every association has ended (requests in progress are answered first), or non-zero with `error`
/// filled (e.g. the port is in use).
int cdicom_scp_run(cdicom_scp *scp, char *error, size_t error_length);

/// Asks a running SCP to stop: no new connection is accepted, idle associations end at once, busy ones after
/// answering their request.
void cdicom_scp_stop(cdicom_scp *scp);

/// Associations currently running.
int cdicom_scp_active_associations(const cdicom_scp *scp);

void cdicom_scp_destroy(cdicom_scp *scp);

// MARK: - Network: query/retrieve SCP (C-FIND, C-MOVE, C-GET)

/// The request kinds a query/retrieve callback gets.
enum {
    CDICOM_QR_FIND = 1,
    CDICOM_QR_MOVE = 2,
    CDICOM_QR_GET = 3,
};

/// A C-FIND, C-MOVE or C-GET request whose identifier was received. Valid during the callback.
typedef struct {
    /// CDICOM_QR_FIND, CDICOM_QR_MOVE or CDICOM_QR_GET.
    int command;
    /// The information model (affected SOP class UID of the request).
    const char *sop_class_uid;
    const char *calling_aet;
    const char *called_aet;
    const char *peer_ip;
    /// C-MOVE: the move destination AE title ("" otherwise).
    const char *move_destination;
    uint16_t message_id;
    /// The association's number in this process (for logs).
    uint64_t association_id;
    /// The identifier as a DICOM file in memory (explicit VR little endian, with meta header).
    const uint8_t *identifier;
    size_t identifier_length;
} cdicom_qr_request;

/// A request being answered, on its association's thread; every cdicom_qr_ call on it must come from that thread,
/// during the callback.
typedef struct cdicom_qr cdicom_qr;

/// Called on the association's thread for each query/retrieve request. It answers through the cdicom_qr_ calls and
/// ends with cdicom_qr_finish; a callback that returns without finishing is answered "unable to process" (0xC000).
typedef void (*cdicom_qr_callback)(void *context, cdicom_qr *qr, const cdicom_qr_request *request);

/// Answers C-FIND, C-MOVE and C-GET with `callback` (the context given to cdicom_scp_create); the Patient Root and
/// Study Root models are negotiated for each. Call before cdicom_scp_run.
void cdicom_scp_set_qr_callback(cdicom_scp *scp, cdicom_qr_callback callback);

/// What sending a pending response gave.
enum {
    /// Sent.
    CDICOM_QR_SENT = 0,
    /// The requester sent C-CANCEL: finish with the Cancel status (0xFE00).
    CDICOM_QR_CANCELED = 1,
    /// The association failed: nothing more can be sent (finishing only releases the request).
    CDICOM_QR_BROKEN = 2,
};

/// C-FIND: sends one pending response (0xFF00) whose identifier holds the `count` attributes (tag as group << 16 |
/// element, values in UTF-8, `\`-separated; an empty value sends an empty attribute). Each attribute keeps the VR
/// the request gave it (else the dictionary's). The identifier is converted to `character_set` (a value of
/// SpecificCharacterSet, "ISO_IR 192" for UTF-8) when one of its values is not ASCII. One of CDICOM_QR_SENT,
/// CDICOM_QR_CANCELED, CDICOM_QR_BROKEN.
int cdicom_qr_find_answer(cdicom_qr *qr, const uint32_t *tags, const char *const *values, size_t count,
                          const char *character_set);

/// C-MOVE, C-GET: sends a pending response (0xFF00) with the sub-operation counts.
int cdicom_qr_pending(cdicom_qr *qr, uint16_t remaining, uint16_t completed, uint16_t failed, uint16_t warning);

/// C-GET: sends the stored file at `path` back to the requester with C-STORE on the request's own association (the
/// storage contexts the requester proposed in the SCP role). One of the CDICOM_SCU_ codes; `status` filled with
/// CDICOM_SCU_ANSWERED, `error` otherwise.
int cdicom_qr_store(cdicom_qr *qr, const char *path, uint16_t *status, char *error, size_t error_length);

/// Sends the final response: `status`, the sub-operation counts (C-MOVE, C-GET; `remaining` is sent only when
/// `status` is Cancel) and, when `failed_uids` is not empty, an identifier with FailedSOPInstanceUIDList
/// (`\`-separated). `error_comment` (may be NULL) goes in ErrorComment for failure statuses. Returns 0 when sent.
int cdicom_qr_finish(cdicom_qr *qr, uint16_t status, uint16_t remaining, uint16_t completed, uint16_t failed,
                     uint16_t warning, const char *failed_uids, const char *error_comment);

// MARK: - Network: SCU

/// DICOM TLS of an outbound association (Orthanc's `DicomTls*` settings, a modality's `UseDicomTls`): PEM files.
typedef struct {
    /// Our certificate, presented to the peer.
    const char *certificate;
    /// Its private key (unencrypted).
    const char *private_key;
    /// The certificates (or authorities) the peer's certificate is checked against.
    const char *trusted_certificates;
    /// Non-zero: the peer must present a certificate that `trusted_certificates` vouches for.
    int remote_certificate_required;
} cdicom_tls;

/// Where and how to open an SCU association.
typedef struct {
    const char *host;
    uint16_t port;
    const char *calling_aet;
    const char *called_aet;
    /// Connection, ACSE and DIMSE timeout, in seconds; 0: none.
    uint32_t timeout_seconds;
    /// Largest PDU we receive (0: DCMTK's default).
    uint32_t max_pdu;
    /// Non-zero: a file whose syntax the peer did not accept is not decompressed for it (the modality's
    /// `AllowTranscoding: false`); the store fails instead.
    int forbid_transcoding;
    /// DICOM TLS; NULL: plain TCP.
    const cdicom_tls *tls;
} cdicom_scu_options;

/// Sends a C-ECHO. Returns 0 on success, or non-zero with `error` filled. Blocking.
int cdicom_echo(const cdicom_scu_options *options, char *error, size_t error_length);

/// An open C-STORE association (not thread-safe: one caller at a time).
typedef struct cdicom_scu cdicom_scu;

/// What cdicom_scu_store did.
enum {
    /// The peer answered: its DIMSE status is in `status`.
    CDICOM_SCU_ANSWERED = 0,
    /// The association failed (closed, aborted, timed out): it cannot be used any more.
    CDICOM_SCU_NETWORK = 1,
    /// The file's transfer syntax was refused and it cannot be decompressed to one the peer accepted.
    CDICOM_SCU_TRANSCODE = 2,
    /// The peer accepted no presentation context for the file's SOP class.
    CDICOM_SCU_NO_CONTEXT = 3,
    /// The stored file cannot be read.
    CDICOM_SCU_UNREADABLE = 4,
};

/// Opens an association proposing contexts for the `count` (SOP class, transfer syntax) pairs (at most 128 contexts
/// in all: one per SOP class and stored syntax, one per SOP class for the uncompressed syntaxes). NULL with
/// `error` filled when the peer cannot be reached, refuses, or stays silent past the timeout. Blocking.
cdicom_scu *cdicom_scu_open(const cdicom_scu_options *options, const char *const *sop_classes,
                            const char *const *transfer_syntaxes, size_t count, char *error, size_t error_length);

/// 2 when the association accepted (SOP class, transfer syntax) itself, 1 when only an uncompressed syntax of the
/// SOP class, 0 when the SOP class is not accepted at all.
int cdicom_scu_accepts(const cdicom_scu *scu, const char *sop_class, const char *transfer_syntax);

/// Sends the DICOM file at `path` with C-STORE (`move_originator_aet` NULL or empty: none); one of the CDICOM_SCU_
/// codes, `status` filled with CDICOM_SCU_ANSWERED, `error` otherwise. Blocking.
int cdicom_scu_store(cdicom_scu *scu, const char *path, const char *move_originator_aet, uint16_t move_originator_id,
                     uint16_t *status, char *error, size_t error_length);

/// Whether the association is still established.
int cdicom_scu_is_open(const cdicom_scu *scu);

/// Called with each C-FIND answer, encoded as a DICOM file (explicit VR little endian, with meta header); a non-zero
/// return stops delivering answers (the query goes on to its end).
typedef int (*cdicom_find_answer)(void *context, const uint8_t *bytes, size_t length);

/// Runs a C-FIND in the query/retrieve information model `model` (a SOP class UID) with the `count` attributes
/// (tag as group << 16 | element, value as text; `\\`-separated multiple values); calls `answer` for each pending
/// response. Returns 0 with `status` the final DIMSE status, or non-zero with `error` filled. Blocking.
int cdicom_find(const cdicom_scu_options *options, const char *model, const uint32_t *tags, const char *const *values,
                size_t count, cdicom_find_answer answer, void *context, uint16_t *status, char *error,
                size_t error_length);

/// Runs a C-MOVE of the matching instances to `destination` (an AE title the peer knows). Returns 0 with `status` the
/// final DIMSE status and `suboperations` the completed, failed and warning counts of the final response, or non-zero
/// with `error` filled. Blocking.
int cdicom_move(const cdicom_scu_options *options, const char *model, const uint32_t *tags, const char *const *values,
                size_t count, const char *destination, uint16_t *status, uint16_t suboperations[3], char *error,
                size_t error_length);

/// Runs a C-GET of the matching instances. The association proposes `model` and, in the SCP role, each of the
/// `sop_class_count` storage SOP classes (none: DCMTK's 120 most common ones) with the `syntax_count` transfer
/// syntaxes (none: the uncompressed ones). Each C-STORE the peer sends on it is received into a new file of
/// `incoming_folder` and handed to `callback` (which owns the file and answers the DIMSE status). Returns 0 with
/// `status` the final DIMSE status and `suboperations` the completed, failed and warning counts, or non-zero with
/// `error` filled. Blocking; every DIMSE message waits at most the timeout.
int cdicom_get(const cdicom_scu_options *options, const char *model, const uint32_t *tags, const char *const *values,
               size_t count, const char *const *sop_classes, size_t sop_class_count,
               const char *const *transfer_syntaxes, size_t syntax_count, const char *incoming_folder,
               cdicom_store_callback callback, void *context, uint16_t *status, uint16_t suboperations[3], char *error,
               size_t error_length);

/// Asks the peer to commit to having stored the `count` instances (SOP class and instance UIDs): an N-ACTION of the
/// Storage Commitment Push Model with `transaction_uid`, on an association of its own, released once answered (the
/// peer sends its N-EVENT-REPORT later, on an association it opens to our SCP). Returns 0 with `status` the N-ACTION
/// response's DIMSE status, or non-zero with `error` filled. Blocking.
int cdicom_storage_commitment(const cdicom_scu_options *options, const char *transaction_uid,
                              const char *const *sop_classes, const char *const *sop_instances, size_t count,
                              uint16_t *status, char *error, size_t error_length);

/// Releases (or aborts, when `abort` is non-zero) the association and frees the handle.
void cdicom_scu_close(cdicom_scu *scu, int abort);

// MARK: - Modification

/// Removes the private elements at every depth, but the top-level ones in `kept` (tags as group << 16 | element).
/// Returns 1, 0 on failure.
int cdicom_file_remove_private_tags(cdicom_file *file, const uint32_t *kept, size_t kept_count);

/// Removes (group,element) from the dataset (`prefix` NULL or empty) or from every existing item `prefix` designates
/// in DCMTK's path syntax ("(0008,1115)[0]", "[*]" wildcards). Missing elements and items are no error. Returns 1, or 0
/// with `error` filled (invalid path).
int cdicom_file_remove(cdicom_file *file, const char *prefix, uint16_t group, uint16_t element, char *error,
                       size_t error_length);

/// Sets (group,element), inserted when absent, in the dataset or in every existing item `prefix` designates. Text
/// is UTF-8 and written in the file's character set (its Specific Character Set, else `default_charset`, a defined
/// term), unless `binary` (bytes of a data URI, kept as they are); numeric VRs parse the text. Its VR comes from the
/// dictionary (a private tag's from the creator reserved in the item, else `private_creator`), UN when unknown.
/// Replacing SOPInstanceUID or SOPClassUID updates the meta header. Returns 1, or 0 with `error` filled.
int cdicom_file_replace(cdicom_file *file, const char *prefix, uint16_t group, uint16_t element, const uint8_t *value,
                        size_t length, int binary, const char *default_charset, const char *private_creator,
                        char *error, size_t error_length);

/// Sets (group,element) to a sequence of `items` empty items, in the dataset or in every existing item `prefix`
/// designates; fill them with further calls whose prefix ends with "(gggg,eeee)[i]". Returns 1, or 0 with `error`.
int cdicom_file_replace_sequence(cdicom_file *file, const char *prefix, uint16_t group, uint16_t element,
                                 unsigned long items, char *error, size_t error_length);

/// Writes the file in its transfer syntax (meta header updated, or made anew with `fresh_meta`; group lengths
/// recalculated) into a buffer the caller frees with cdicom_free. Returns 1, or 0 with `error` filled.
int cdicom_file_save(cdicom_file *file, int fresh_meta, uint8_t **bytes, size_t *length, char *error, size_t error_length);

/// Inside every sequence item, at any depth (not at the top level): removes the elements in `removed` and empties
/// those in `emptied` (a sequence loses its items); tags as group << 16 | element. With `curves_and_overlays`, curve
/// data (50xx,xxxx), overlay data (60xx,3000) and overlay comments (60xx,4000) go at every depth, the top included.
/// Returns 1, 0 on failure.
int cdicom_file_anonymize_nested(cdicom_file *file, const uint32_t *removed, size_t removed_count, const uint32_t *emptied,
                                 size_t emptied_count, int curves_and_overlays);

/// The elements in `tags` found inside sequence items at any depth, one line each: the items' path in DCMTK's syntax,
/// a tab, `gggg,eeee`, a tab, the value's bytes in hex. A buffer the caller frees with cdicom_free; NULL on failure.
char *cdicom_file_nested_values(cdicom_file *file, const uint32_t *tags, size_t count);

/// A new UID under DCMTK's site root for a study (level 1), a series (2) or an instance (3), as Orthanc generates
/// them. Returns 1.
int cdicom_generate_uid(int level, char uid[65]);


/// One frame of pixel data, uncompressed (native layout: samples in the machine's byte order, colour samples as the
/// file orders them), with what interpreting it needs.
typedef struct {
    uint32_t rows, columns;
    uint16_t samples_per_pixel, bits_allocated, bits_stored, high_bit, pixel_representation, planar_configuration;
    /// PhotometricInterpretation as stored, and the colour model of the uncompressed bytes (DCMTK's
    /// "decompressed colour model": a JPEG decoder turns YBR into RGB).
    char photometric[32];
    char color_model[32];
    /// NumberOfFrames (1 when absent).
    uint32_t frame_count;
    /// 1 when the pixel data was compressed (encapsulated) and went through a decoder.
    int encapsulated;
    /// The transfer syntax UID of the pixel data.
    char transfer_syntax[65];
    /// The frame's bytes (free with cdicom_free) and their count.
    uint8_t *bytes;
    size_t length;
} cdicom_frame;

enum {
    CDICOM_FRAME_OK = 0,
    CDICOM_FRAME_NO_PIXELS = 1,
    CDICOM_FRAME_OUT_OF_RANGE = 2,
    CDICOM_FRAME_UNSUPPORTED = 3,
    CDICOM_FRAME_CORRUPT = 4,
    CDICOM_FRAME_BUSY = 5,
};

/// Uncompresses frame `index` (from 0) of the file's pixel data into `frame`. Returns CDICOM_FRAME_OK, or another
/// CDICOM_FRAME_ value with `error` filled (no pixel data, no such frame, a syntax without decoder or attributes out
/// of range, a compressed stream that does not decode, no memory to spare now). The attributes of `frame` are filled
/// as far as they were read.
int cdicom_file_frame(cdicom_file *file, uint32_t index, cdicom_frame *frame, char *error, size_t error_length);

/// Encodes 8-bit greyscale (`channels` 1) or RGB (3) pixels, rows tightly packed, as a baseline JPEG of `quality`
/// (1-100). Returns 1 with the file in `bytes` (free with cdicom_free), or 0 with `error` filled.
int cdicom_jpeg_encode(const uint8_t *pixels, uint32_t width, uint32_t height, int channels, int quality,
                       uint8_t **bytes, size_t *length, char *error, size_t error_length);


/// The transfer syntax the dataset was read in (DCMTK's detection for a file without meta header); 0 when unknown.
int cdicom_file_dataset_syntax(const cdicom_file *file, char *uid, size_t uid_length);

/// Where the top-level Pixel Data element starts in the Part-10 file at `path` (Orthanc's PixelDataOffset metadata),
/// found by the structural scan without parsing; -1 when the file has none, is not Part-10 (no "DICM"), is deflated or
/// cannot be read.
int64_t cdicom_pixel_data_offset(const char *path);

/// Sets native pixel data (7FE0,0010) to `length` bytes, as Orthanc's EmbedImage inserts it. Returns 0 with `error`.
int cdicom_file_put_pixel_data(cdicom_file *file, const uint8_t *bytes, size_t length, char *error, size_t error_length);

/// Pixel layouts of a decoded PNG or JPEG image (Orthanc's PixelFormat names).
typedef enum {
    CDICOM_PIXELS_GRAYSCALE8 = 1,
    CDICOM_PIXELS_GRAYSCALE16 = 2,
    CDICOM_PIXELS_RGB24 = 3,
    CDICOM_PIXELS_RGBA32 = 4,
} cdicom_pixel_layout;

/// Outcome of cdicom_png_decode and cdicom_jpeg_decode.
typedef enum {
    CDICOM_DECODE_OK = 0,
    /// Not an image of this format, or damaged.
    CDICOM_DECODE_BAD_FILE = 1,
    /// A valid image in a layout Orthanc does not embed (palette, grey with alpha, fewer than 8 bits, CMYK...).
    CDICOM_DECODE_UNSUPPORTED = 2,
    /// Larger than `max_pixels`.
    CDICOM_DECODE_TOO_LARGE = 3,
} cdicom_decode_status;

/// Decodes a PNG file as Orthanc's PngReader: 8-bit grey, 16-bit grey (host order), 8-bit RGB and RGBA only. Rows are
/// tightly packed in `pixels` (free with cdicom_free). Images over `max_pixels` pixels are refused before decoding.
int cdicom_png_decode(const uint8_t *bytes, size_t length, uint64_t max_pixels, uint32_t *width, uint32_t *height,
                      int *layout, uint8_t **pixels, size_t *pixels_length, char *error, size_t error_length);

/// Decodes a JPEG file as Orthanc's JpegReader: 8-bit greyscale or RGB (libjpeg's colour conversion), rows tightly
/// packed in `pixels` (free with cdicom_free).
int cdicom_jpeg_decode(const uint8_t *bytes, size_t length, uint64_t max_pixels, uint32_t *width, uint32_t *height,
                       int *layout, uint8_t **pixels, size_t *pixels_length, char *error, size_t error_length);

/// A JPEG 2000 image decoded by OpenJPEG: components interleaved, each sample in `sample_bytes` little-endian bytes
/// (two's complement when signed).
typedef struct {
    uint32_t width, height, components, precision;
    int is_signed;
    /// The samples (free with cdicom_free) and their count in bytes.
    uint8_t *bytes;
    size_t length;
} cdicom_j2k_image;

/// Decodes a JPEG 2000 codestream or JP2 file (one frame's fragments joined) with samples of `sample_bytes` (1 or 2,
/// from BitsAllocated); an image other than `expected_width` x `expected_height` is refused before it is decoded.
/// Returns 1, or 0 with `error` filled (not JPEG 2000, damaged, components of different sizes,
/// deeper than BitsAllocated, no memory to spare now).
int cdicom_j2k_decode(const uint8_t *bytes, size_t length, int sample_bytes, uint32_t expected_width,
                      uint32_t expected_height, cdicom_j2k_image *out, char *error, size_t error_length);


enum {
    CDICOM_TRANSCODE_DONE = 0,
    /// The file is already in the target syntax: nothing changed.
    CDICOM_TRANSCODE_UNCHANGED = 1,
    CDICOM_TRANSCODE_FAILED = 2,
    CDICOM_TRANSCODE_BUSY = 3,
};

/// Re-encodes the parsed file's dataset in the transfer syntax `target` (a UID), as Orthanc's built-in transcoder:
/// uncompressed (implicit, explicit, big endian), deflated, JPEG baseline and extended (IJG `quality` 1-100; BitsStored
/// 8, and at most 12), JPEG lossless (process 14, and selection value 1), JPEG-LS lossless and near-lossless, and RLE
/// (which Orthanc's core cannot write). Lossy
/// targets need `allow_new_uid` 1 (the encoder gives the instance a new SOP Instance UID and records its predecessor)
/// or 2 (the same, then the original SOP Instance UID is put back).
/// Save the result with cdicom_file_save(file, 1, ...). Returns a CDICOM_TRANSCODE_ value, `error` filled on failure.
int cdicom_file_transcode(cdicom_file *file, const char *target, int quality, int allow_new_uid, char *error,
                          size_t error_length);

#ifdef __cplusplus
}
#endif

#endif
