import Foundation
import Index
import Model

/// A job as Orthanc's `GET /jobs/{id}` prints it.
public enum JobJSON {
    /// The job's JSON; `Timestamp` is `now`, as Orthanc's is the time of the answer.
    public static func render(_ job: JobRecord, now: Date = Date()) -> JSONValue {
        var members: [String: JSONValue] = [
            "ID": .string(job.id), "Type": .string(job.type), "State": .string(job.state.rawValue),
            "Priority": .number(Double(job.priority)), "Progress": .number(Double(job.progress)),
            "Content": job.content, "CreationTime": .string(timestamp(job.createdAt)),
            "EffectiveRuntime": .number((job.effectiveRuntime(now: now) * 1000).rounded() / 1000),
            "ErrorCode": .number(Double(job.errorCode)), "ErrorDescription": .string(job.errorDescription),
            "Timestamp": .string(timestamp(now)),
        ]
        if let completed = job.completedAt, job.state.isFinished {
            members["CompletionTime"] = .string(timestamp(completed))
        }
        if let details = job.errorDetails, !details.isEmpty {
            members["ErrorDetails"] = .string(details)
        }
        if let userData = job.userData {
            members["UserData"] = userData
        }
        return .object(members)
    }

    /// Orthanc's job timestamps: UTC, `YYYYMMDDTHHMMSS.ffffff`.
    public static func timestamp(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? .current
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .nanosecond], from: date)
        func pad(_ value: Int?, _ width: Int) -> String {
            let text = String(value ?? 0)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(c.year, 4))\(pad(c.month, 2))\(pad(c.day, 2))T\(pad(c.hour, 2))\(pad(c.minute, 2))\(pad(c.second, 2))."
            + pad((c.nanosecond ?? 0) / 1000, 6)
    }
}
