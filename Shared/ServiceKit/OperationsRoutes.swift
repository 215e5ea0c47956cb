import Hummingbird
import Prometheus

/// `/health` (the process is alive), `/ready` (its dependencies answer) and `/metrics` (Prometheus text format),
/// added to a service's router.
public enum OperationsRoutes {
    public static func add<Context: RequestContext>(
        to router: Router<Context>,
        metrics: PrometheusCollectorRegistry,
        readiness: @escaping @Sendable () async -> Bool
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
            var buffer: [UInt8] = []
            metrics.emit(into: &buffer)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                            body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
        }
    }
}
