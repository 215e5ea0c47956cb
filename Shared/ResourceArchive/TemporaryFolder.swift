import Foundation
import Synchronization

/// A temporary folder removed when asked, or at the latest when its last owner goes.
final class TemporaryFolder: Sendable {
    let path: String
    private let removed = Atomic<Bool>(false)

    init(path: String) {
        self.path = path
    }

    /// Removes the folder and what it holds (once).
    func remove() {
        guard !removed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        try? FileManager.default.removeItem(atPath: path)
    }

    deinit {
        remove()
    }
}
