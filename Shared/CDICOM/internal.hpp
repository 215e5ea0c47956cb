// Helpers shared by the C++ files of the shim. Not part of the C API.
#ifndef TESSERA_CDICOM_INTERNAL_HPP
#define TESSERA_CDICOM_INTERNAL_HPP

#include <cstddef>
#include <cstring>
#include <exception>
#include <string>

namespace tessera {

/// Copies `message` into a caller's error buffer (NUL-terminated, truncated to fit).
inline void copyError(char *error, size_t length, const std::string &message) {
    if (error == nullptr || length == 0) return;
    std::strncpy(error, message.c_str(), length - 1);
    error[length - 1] = '\0';
}

/// Runs `body` and returns its result, or `fallback` when a C++ exception escapes it (DCMTK allocates with plain
/// `new` and uses std containers: `std::bad_alloc` can come out of any call). No exception may cross into Swift.
template <typename Result, typename Body>
Result guarded(Result fallback, Body &&body) noexcept {
    try {
        return body();
    } catch (...) {
        return fallback;
    }
}

/// The same, filling `error` with what was thrown.
template <typename Result, typename Body>
Result guarded(Result fallback, char *error, size_t length, Body &&body) noexcept {
    try {
        return body();
    } catch (const std::bad_alloc &) {
        copyError(error, length, "out of memory");
    } catch (const std::exception &caught) {
        copyError(error, length, std::string("internal error: ") + caught.what());
    } catch (...) {
        copyError(error, length, "internal error");
    }
    return fallback;
}

}  // namespace tessera

#endif
