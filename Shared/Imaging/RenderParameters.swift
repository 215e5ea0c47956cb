/// The query arguments of `/rendered` (Orthanc 1.9): a target size (0: not given) keeping the aspect ratio, a
/// smoothing filter before shrinking, and a window overriding the instance's.
public struct RenderParameters: Sendable {
    /// The largest width or height asked or computed (a rendered image is held in memory).
    public static let maximumSide = 16384

    public var width: Int = 0
    public var height: Int = 0
    public var smooth = false
    public var windowCenter: Double?
    public var windowWidth: Double?

    public init(width: Int = 0, height: Int = 0, smooth: Bool = false, windowCenter: Double? = nil, windowWidth: Double? = nil) {
        self.width = width
        self.height = height
        self.smooth = smooth
        self.windowCenter = windowCenter
        self.windowWidth = windowWidth
    }
}
