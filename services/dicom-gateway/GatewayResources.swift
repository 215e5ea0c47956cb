import Foundation

/// Files the gateway needs next to its code.
enum GatewayResources {
    /// `config/dicom-association.cfg` of the source tree (found from the executable's location:
    /// `.build/<triple>/<configuration>/tessera-gateway`), else DCMTK's own storescp.cfg.
    static func defaultAssociationConfigPath() -> String {
        var folder = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 {
            let candidate = folder.appendingPathComponent("config/dicom-association.cfg").path
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
            folder.deleteLastPathComponent()
        }
        return "/etc/dcmtk/storescp.cfg"
    }
}
