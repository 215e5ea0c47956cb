import Foundation

/// Orthanc's rule for a series' `ExpectedNumberOfInstances`, from its main tags
/// (`ServerIndex::ComputeExpectedNumberOfInstances`): ImagesInAcquisition × NumberOfTemporalPositions, else
/// NumberOfSlices × NumberOfTimeSlices, else CardiacNumberOfImages; unknown unless positive. The values come from
/// the file, so the product is checked: one that overflows (or exceeds `Int32`, the index column) is unknown too.
public enum ExpectedInstances {
    public static func compute(seriesTags: [String: String]) -> Int? {
        func number(_ name: String) -> Int? {
            seriesTags[name].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        }
        let product: Int?
        if seriesTags["ImagesInAcquisition"] != nil, seriesTags["NumberOfTemporalPositions"] != nil {
            product = multiply(number("ImagesInAcquisition"), number("NumberOfTemporalPositions"))
        } else if seriesTags["NumberOfSlices"] != nil, seriesTags["NumberOfTimeSlices"] != nil {
            product = multiply(number("NumberOfSlices"), number("NumberOfTimeSlices"))
        } else if seriesTags["CardiacNumberOfImages"] != nil {
            product = number("CardiacNumberOfImages")
        } else {
            product = nil
        }
        guard let product, product > 0, product <= Int(Int32.max) else { return nil }
        return product
    }

    private static func multiply(_ lhs: Int?, _ rhs: Int?) -> Int? {
        guard let lhs, let rhs else { return nil }
        let (product, overflow) = lhs.multipliedReportingOverflow(by: rhs)
        return overflow ? nil : product
    }
}
