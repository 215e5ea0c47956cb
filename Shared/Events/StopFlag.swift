import Foundation

/// A flag a poll loop on a dedicated thread checks between polls.
final class StopFlag: @unchecked Sendable {
    private let state = LockedValue(false)

    var isSet: Bool { state.withLock { $0 } }

    func set() {
        state.withLock { $0 = true }
    }
}
