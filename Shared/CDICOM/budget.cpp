#include "budget.hpp"

#include <algorithm>
#include <unistd.h>

namespace tessera {

ParseBudget &ParseBudget::shared() {
    static ParseBudget budget([] {
        const long pages = ::sysconf(_SC_PHYS_PAGES), pageSize = ::sysconf(_SC_PAGESIZE);
        const long long physical = pages > 0 && pageSize > 0 ? static_cast<long long>(pages) * pageSize : 0;
        return std::clamp(physical / 8, 256LL << 20, 2LL << 30);
    }());
    return budget;
}

bool ParseBudget::acquire(long long bytes, std::chrono::milliseconds wait) {
    if (bytes <= 0) return true;
    std::unique_lock<std::mutex> lock(lock_);
    // Larger than everything: alone. Otherwise: when it fits.
    auto fits = [&] { return bytes >= capacity_ ? used_ == 0 : used_ + bytes <= capacity_; };
    if (!freed_.wait_for(lock, wait, fits)) return false;
    used_ += bytes;
    return true;
}

void ParseBudget::release(long long bytes) {
    if (bytes <= 0) return;
    {
        std::lock_guard<std::mutex> lock(lock_);
        used_ = std::max(0LL, used_ - bytes);
    }
    freed_.notify_all();
}

}  // namespace tessera
