import Foundation
import Synchronization

/// The largest value recorded in the last 10 seconds, as Orthanc's `MetricsType_MaxOver10Seconds` keeps its
/// `*_duration_ms` metrics: a value replaces the kept one when it is larger, or when the kept one is older than the
/// window; the sample keeps the time it was recorded (Orthanc prints it after the value).
public final class WindowedMaximum: Sendable {
    /// A value and when it was recorded (milliseconds since 1970).
    public struct Sample: Sendable, Equatable {
        public var value: Double
        public var timestampMilliseconds: Int64

        public init(value: Double, timestampMilliseconds: Int64) {
            self.value = value
            self.timestampMilliseconds = timestampMilliseconds
        }
    }

    private let state = Mutex<Sample?>(nil)
    private let windowMilliseconds: Int64

    public init(windowSeconds: Int = 10) {
        windowMilliseconds = Int64(windowSeconds) * 1000
    }

    /// Records `value` (at `now`, milliseconds since 1970).
    public func record(_ value: Double, now: Int64 = WindowedMaximum.now()) {
        state.withLock { kept in
            if let current = kept, now - current.timestampMilliseconds < windowMilliseconds, current.value >= value { return }
            kept = Sample(value: value, timestampMilliseconds: now)
        }
    }

    /// The kept sample; nil until a first value.
    public var sample: Sample? { state.withLock { $0 } }

    /// Milliseconds since 1970.
    public static func now() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }
}
