import Foundation

/// Orthanc's rule for a series' `ExpectedNumberOfInstances`, from its main tags
/// (`ServerIndex::ComputeExpectedNumberOfInstances`): ImagesInAcquisition × NumberOfTemporalPositions, else
/// NumberOfSlices × NumberOfTimeSlices, else CardiacNumberOfImages; unknown unless positive.
public enum ExpectedInstances {
    public static func compute(seriesTags: [String: String]) -> Int? {
        func number(_ name: String) -> Int? {
            seriesTags[name].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        }
        let product: Int?
        if seriesTags["ImagesInAcquisition"] != nil, seriesTags["NumberOfTemporalPositions"] != nil {
            product = number("ImagesInAcquisition").flatMap { a in number("NumberOfTemporalPositions").map { a * $0 } }
        } else if seriesTags["NumberOfSlices"] != nil, seriesTags["NumberOfTimeSlices"] != nil {
            product = number("NumberOfSlices").flatMap { a in number("NumberOfTimeSlices").map { a * $0 } }
        } else if seriesTags["CardiacNumberOfImages"] != nil {
            product = number("CardiacNumberOfImages")
        } else {
            product = nil
        }
        guard let product, product > 0 else { return nil }
        return product
    }
}
