import Foundation
import Model

/// The order of a series' instances for `/series/{id}/numpy` (Orthanc's `SliceOrdering`): along the normal of the
/// series' ImageOrientationPatient when every instance has an ImagePositionPatient (and an orientation parallel to
/// the series'), positions all distinct; else by IndexInSeries when every instance has one; else
/// `cannotOrderSlices`.
public enum SliceOrdering {
    /// One instance of the series.
    public struct Slice: Sendable {
        public var id: PublicID
        public var position: String?
        public var orientation: String?
        public var indexInSeries: Int?

        public init(id: PublicID, position: String?, orientation: String?, indexInSeries: Int?) {
            self.id = id
            self.position = position
            self.orientation = orientation
            self.indexInSeries = indexInSeries
        }
    }

    public static func order(_ slices: [Slice], seriesOrientation: String?) throws(TesseraError) -> [Slice] {
        try ordering(slices, seriesOrientation: seriesOrientation).slices
    }

    /// The order, and whether it is a volume (ordered along the normal; `/series/{id}/ordered-slices` says `Volume`,
    /// else `Sequence`; a single instance is a sequence, as in Orthanc).
    public static func ordering(_ slices: [Slice], seriesOrientation: String?) throws(TesseraError) -> (slices: [Slice], isVolume: Bool) {
        if slices.count <= 1 { return (slices, false) }
        let epsilon = 10 * Float.ulpOfOne
        if let normal = seriesOrientation.flatMap(Self.normal) {
            var projected: [(Slice, Float)] = []
            for slice in slices {
                guard let position = slice.position.flatMap({ Self.floats($0, count: 3) }) else { break }
                if let own = slice.orientation.flatMap(Self.normal) {
                    let cosine = zip(own, normal).map(*).reduce(0, +)
                    guard abs(cosine - 1) < epsilon || abs(abs(cosine) - 1) < epsilon else { break }
                }
                projected.append((slice, zip(position, normal).map(*).reduce(0, +)))
            }
            if projected.count == slices.count {
                projected.sort { $0.1 < $1.1 }
                let distinct = zip(projected, projected.dropFirst()).allSatisfy { abs($1.1 - $0.1) > epsilon }
                if distinct { return (projected.map(\.0), true) }
            }
        }
        if slices.allSatisfy({ $0.indexInSeries != nil }) {
            return (slices.sorted { ($0.indexInSeries ?? 0) < ($1.indexInSeries ?? 0) }, false)
        }
        throw TesseraError(.cannotOrderSlices)
    }

    /// The normal of an ImageOrientationPatient (row × column cosines).
    static func normal(_ orientation: String) -> [Float]? {
        guard let c = floats(orientation, count: 6) else { return nil }
        return [c[1] * c[5] - c[2] * c[4], c[2] * c[3] - c[0] * c[5], c[0] * c[4] - c[1] * c[3]]
    }

    static func floats(_ text: String, count: Int) -> [Float]? {
        let values = text.split(separator: "\\", omittingEmptySubsequences: false)
            .compactMap { Float($0.trimmingCharacters(in: .whitespaces)) }
        return values.count == count ? values : nil
    }
}
