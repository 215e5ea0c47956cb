import Model
import Testing

@Suite("Expected number of instances")
struct ExpectedInstancesTests {
    @Test("Orthanc's rule, with products that overflow or exceed the index column left unknown")
    func overflow() {
        #expect(ExpectedInstances.compute(seriesTags: ["ImagesInAcquisition": "10", "NumberOfTemporalPositions": "3"]) == 30)
        #expect(ExpectedInstances.compute(seriesTags: ["ImagesInAcquisition": "9223372036854775807", "NumberOfTemporalPositions": "3"]) == nil)
        #expect(ExpectedInstances.compute(seriesTags: ["NumberOfSlices": "4294967296", "NumberOfTimeSlices": "4294967296"]) == nil)
        #expect(ExpectedInstances.compute(seriesTags: ["ImagesInAcquisition": "65536", "NumberOfTemporalPositions": "65536"]) == nil)
        #expect(ExpectedInstances.compute(seriesTags: ["CardiacNumberOfImages": "-4"]) == nil)
        #expect(ExpectedInstances.compute(seriesTags: ["ImagesInAcquisition": "x", "NumberOfTemporalPositions": "3"]) == nil)
    }
}
