import Testing

/// Every suite that uses the shared test cluster nests here, so they run one at a time: the crash-safety
/// tests kill and restart its services, which must not disturb the other suites.
@Suite("Tests over the running cluster", .serialized)
struct ClusterTests {}
