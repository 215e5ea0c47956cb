// See encode.hpp.
#include "encode.hpp"

#include "dcmtk/dcmdata/dcostrmb.h"

namespace tessera {

bool encodeDataset(DcmDataset *dataset, std::vector<uint8_t> &bytes) {
    DcmFileFormat file(dataset);
    file.getMetaInfo()->putAndInsertString(DCM_TransferSyntaxUID, UID_LittleEndianExplicitTransferSyntax);
    if (file.validateMetaInfo(EXS_LittleEndianExplicit).bad()) return false;
    const Uint32 length = file.calcElementLength(EXS_LittleEndianExplicit, EET_ExplicitLength) + 1024;
    bytes.resize(length);
    DcmOutputBufferStream stream(bytes.data(), length);
    file.transferInit();
    OFCondition written = file.write(stream, EXS_LittleEndianExplicit, EET_ExplicitLength, nullptr);
    file.transferEnd();
    if (written.bad()) return false;
    void *buffer = nullptr;
    offile_off_t size = 0;
    stream.flushBuffer(buffer, size);
    bytes.resize(static_cast<size_t>(size));
    return true;
}

}  // namespace tessera
