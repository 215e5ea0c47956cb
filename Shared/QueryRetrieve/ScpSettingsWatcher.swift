import DICOM
import Index
import Logging
import Model
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
        try await cancelWhenGracefulShutdown {
            var applied = ScpSettingsStore.Settings()
            var failing = false
            while !Task.isCancelled {
                do {
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
                    failing = false
                } catch {
                    if !failing { logger.warning("DICOM server settings not refreshed", metadata: ["error": "\(error)"]) }
                    failing = true
                }
                try? await Task.sleep(for: interval)
            }
        }
    }
}
