import Foundation
import Model

/// One row of the change log.
public struct ChangeRecord: Sendable, Hashable {
    public var seq: Int64
    public var type: ChangeType
    public var level: ResourceLevel
    public var publicID: PublicID
    public var date: Date
}
