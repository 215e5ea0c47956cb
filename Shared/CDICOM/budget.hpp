// A process-wide cap on the memory DCMTK parses may hold at once. Not part of the C API.
//
// One parse is bounded by the pre-scanner (elements, inflated size), but parses run concurrently: 32 associations,
// the API's uploads and tag routes. Each parse reserves its estimate here before DCMTK allocates anything and keeps it
// as long as the parsed file lives; a parse that does not fit waits, and gives up (as "busy", never as bad input)
// when the wait is too long. A single parse larger than the whole budget waits until nothing else is reserved, then
// runs alone, so any file the scanner accepts can still be read.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace tessera {

class ParseBudget {
public:
    /// The budget of this process: an eighth of the physical memory, between 256 MiB and 2 GiB.
    static ParseBudget &shared();

    /// How long a parse waits for room before it is refused as busy.
    static constexpr std::chrono::milliseconds defaultWait{20000};

    explicit ParseBudget(long long capacity) : capacity_(capacity) {}

    /// Reserves `bytes`, waiting up to `wait` for room; false when the wait ran out.
    bool acquire(long long bytes, std::chrono::milliseconds wait);
    /// Gives back what `acquire` reserved.
    void release(long long bytes);

    long long capacity() const { return capacity_; }

private:
    std::mutex lock_;
    std::condition_variable freed_;
    const long long capacity_;
    long long used_ = 0;
};

/// Bytes reserved from a budget, given back when it goes. Move-only.
class Reservation {
public:
    Reservation() = default;
    Reservation(ParseBudget *budget, long long bytes) : budget_(budget), bytes_(bytes) {}
    Reservation(Reservation &&other) noexcept : budget_(other.budget_), bytes_(other.bytes_) { other.bytes_ = 0; }
    Reservation &operator=(Reservation &&other) noexcept {
        if (this != &other) {
            reset();
            budget_ = other.budget_;
            bytes_ = other.bytes_;
            other.bytes_ = 0;
        }
        return *this;
    }
    Reservation(const Reservation &) = delete;
    Reservation &operator=(const Reservation &) = delete;
    ~Reservation() { reset(); }

    /// Reserves `bytes` more from `budget` (the same budget every time), waiting up to `wait`.
    bool grow(ParseBudget &budget, long long bytes, std::chrono::milliseconds wait) {
        if (bytes <= 0) return true;
        if (!budget.acquire(bytes, wait)) return false;
        budget_ = &budget;
        bytes_ += bytes;
        return true;
    }

    void reset() {
        if (budget_ != nullptr && bytes_ > 0) budget_->release(bytes_);
        bytes_ = 0;
    }

    long long bytes() const { return bytes_; }

private:
    ParseBudget *budget_ = nullptr;
    long long bytes_ = 0;
};

}  // namespace tessera
