import DICOM
import Index
import Logging
import Model
import ServiceKit
import ServiceLifecycle

/// Applies the DICOM server settings changed through the REST API (accepted transfer syntaxes, unknown SOP classes)
/// to this gateway's SCP: read from the index every few seconds, effective for new associations.
public struct ScpSettingsWatcher: Service {
    let store: ScpSettingsStore
    let scp: StoreSCP
    let interval: Duration
    let logger: Logger

    public init(store: ScpSettingsStore, scp: StoreSCP, interval: Duration = .seconds(2), logger: Logger) {
        self.store = store
        self.scp = scp
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        var applied = ScpSettingsStore.Settings()
        await PeriodicRefresh.run(every: interval, what: "the DICOM server settings", logger: logger) {
            let settings = try await store.current()
            if let syntaxes = settings.acceptedTransferSyntaxes, syntaxes != applied.acceptedTransferSyntaxes {
                scp.setAcceptedTransferSyntaxes(syntaxes)
                logger.info("Accepted transfer syntaxes changed", metadata: ["count": "\(syntaxes.count)"])
            }
            if let unknown = settings.unknownSopClassAccepted, unknown != applied.unknownSopClassAccepted {
                scp.setUnknownSOPClassesAccepted(unknown)
                logger.info("Unknown SOP classes accepted changed", metadata: ["accepted": "\(unknown)"])
            }
            applied = settings
        }
    }
}
