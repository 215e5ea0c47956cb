import Hummingbird
import Prometheus

/// `/health` (the process is alive), `/ready` (its dependencies answer) and `/metrics` (Prometheus text format),
/// added to a service's router.
public enum OperationsRoutes {
    /// Adds the three routes; `extraMetrics` returns series computed at scrape time (text format, appended); without
    /// it, this process's Orthanc metrics (``OrthancMetricsExposition``: up time, the durations it recorded).
    public static func add<Context: RequestContext>(
        to router: Router<Context>,
        metrics: PrometheusCollectorRegistry,
        readiness: @escaping @Sendable () async -> Bool,
        extraMetrics: (@Sendable () async -> String)? = nil
    ) {
        router.get("/health") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: "OK\n")))
        }
        router.get("/ready") { _, _ in
            let ready = await readiness()
            return Response(status: ready ? .ok : .serviceUnavailable, headers: [.contentType: "text/plain"],
                            body: .init(byteBuffer: ByteBuffer(string: ready ? "READY\n" : "NOT READY\n")))
        }
        router.get("/metrics") { _, _ in
            let extra = await extraMetrics?()
                ?? OrthancMetricsExposition.prometheusText(OrthancMetricsExposition.process(includeREST: false))
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                            body: .init(byteBuffer: ByteBuffer(string: MetricsExposition.render(metrics, extra: extra))))
        }
    }
}
