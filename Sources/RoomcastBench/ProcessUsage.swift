#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// CPU time and memory of a process, read from Linux's /proc: the figures a benchmark divides
/// by the work done (CPU µs per delivered message, RSS per idle connection).
public struct ProcessUsage: Sendable, Equatable {
    /// User plus system CPU time of all the process's threads, in microseconds.
    public var cpuMicroseconds: Int64
    /// Resident set size in bytes.
    public var residentBytes: Int64

    public init(cpuMicroseconds: Int64, residentBytes: Int64) {
        self.cpuMicroseconds = cpuMicroseconds
        self.residentBytes = residentBytes
    }

    /// Reads process `pid` ("self" when nil); nil when /proc has no such process.
    public static func read(pid: Int32? = nil) -> ProcessUsage? {
        let base = "/proc/\(pid.map(String.init) ?? "self")"
        guard let stat = readText(base + "/stat"), let status = readText(base + "/status"),
              let ticks = parseCPUTicks(stat: stat), let rss = parseResidentBytes(status: status)
        else { return nil }
        let hz = Int64(sysconf(Int32(_SC_CLK_TCK)))
        return ProcessUsage(cpuMicroseconds: ticks * 1_000_000 / max(hz, 1), residentBytes: rss)
    }

    /// utime + stime (fields 14 and 15) of a /proc/PID/stat line, in clock ticks. The command
    /// name (field 2) may hold spaces and parentheses, so fields are counted after its last ')'.
    public static func parseCPUTicks(stat: String) -> Int64? {
        guard let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
        // fields[0] is field 3 (state), so utime (14) is fields[11] and stime (15) fields[12].
        guard fields.count > 12, let user = Int64(fields[11]), let system = Int64(fields[12]) else { return nil }
        return user + system
    }

    /// VmRSS of a /proc/PID/status text, in bytes.
    public static func parseResidentBytes(status: String) -> Int64? {
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count >= 2, let kilobytes = Int64(parts[1]) else { return nil }
            return kilobytes * 1024
        }
        return nil
    }

    static func readText(_ path: String) -> String? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// CPU used between two readings, against the wall-clock time between them.
public struct CPUAccount: Sendable, Equatable {
    /// CPU microseconds spent.
    public var cpuMicroseconds: Int64
    /// Wall-clock microseconds elapsed.
    public var wallMicroseconds: Int64

    public init(cpuMicroseconds: Int64, wallMicroseconds: Int64) {
        self.cpuMicroseconds = cpuMicroseconds
        self.wallMicroseconds = wallMicroseconds
    }

    /// Between two readings of the same process `wallMicroseconds` apart.
    public init(from start: ProcessUsage, to end: ProcessUsage, wallMicroseconds: Int64) {
        self.init(cpuMicroseconds: end.cpuMicroseconds - start.cpuMicroseconds, wallMicroseconds: wallMicroseconds)
    }

    /// Percent of one core (can pass 100 on several cores).
    public var percentOfCore: Double {
        wallMicroseconds > 0 ? Double(cpuMicroseconds) * 100 / Double(wallMicroseconds) : 0
    }

    /// CPU microseconds per unit of work (per delivered message, per viewer-frame); nil for no work.
    public func microseconds(per units: Int) -> Double? {
        units > 0 ? Double(cpuMicroseconds) / Double(units) : nil
    }

    /// True when the process was busy at least `threshold`% of one core: a load generator that
    /// ran this hot may itself have been the bottleneck, and its results are flagged.
    public func saturated(threshold: Double = 90) -> Bool { percentOfCore >= threshold }
}

extension ProcessUsage {
    /// CPU microseconds of each thread of process `pid` ("self" when nil), by thread id, from
    /// /proc/PID/task/TID/stat: a load generator whose busiest event-loop thread is near a
    /// full core is the bottleneck even when its total is not.
    public static func threadCPUMicroseconds(pid: Int32? = nil) -> [Int32: Int64] {
        let base = "/proc/\(pid.map(String.init) ?? "self")/task"
        guard let directory = opendir(base) else { return [:] }
        defer { closedir(directory) }
        let hz = Int64(sysconf(Int32(_SC_CLK_TCK)))
        var result: [Int32: Int64] = [:]
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            guard let tid = Int32(name), let stat = readText("\(base)/\(name)/stat"),
                  let ticks = parseCPUTicks(stat: stat) else { continue }
            result[tid] = ticks * 1_000_000 / max(hz, 1)
        }
        return result
    }

    /// The busiest thread between two readings of ``threadCPUMicroseconds(pid:)``, as CPU
    /// microseconds (threads that appeared in between count from zero).
    public static func busiestThread(from start: [Int32: Int64], to end: [Int32: Int64]) -> Int64 {
        end.map { tid, cpu in cpu - (start[tid] ?? 0) }.max() ?? 0
    }
}

/// Busy and total CPU time of the whole machine, from the first line of /proc/stat: on a small
/// machine shared by the server and the load generator, a run where all cores were busy measured
/// the machine, not the server.
public struct MachineCPUUsage: Sendable, Equatable {
    /// Clock ticks spent on anything but idle and I/O wait, summed over cores.
    public var busyTicks: Int64
    /// All clock ticks, summed over cores.
    public var totalTicks: Int64

    public init(busyTicks: Int64, totalTicks: Int64) {
        self.busyTicks = busyTicks
        self.totalTicks = totalTicks
    }

    /// Reads /proc/stat; nil when it cannot.
    public static func read() -> MachineCPUUsage? {
        ProcessUsage.readText("/proc/stat").flatMap(parse(stat:))
    }

    /// The aggregate `cpu` line: user nice system idle iowait irq softirq steal (guest time is
    /// already inside user and nice, so it is not added again).
    public static func parse(stat: String) -> MachineCPUUsage? {
        guard let line = stat.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") }) else { return nil }
        let values = line.split(separator: " ").dropFirst().prefix(8).compactMap { Int64($0) }
        guard values.count >= 4 else { return nil }
        let idle = values[3] + (values.count > 4 ? values[4] : 0)
        let total = values.reduce(0, +)
        return MachineCPUUsage(busyTicks: total - idle, totalTicks: total)
    }

    /// Percent of all cores busy between two readings.
    public static func busyPercent(from start: MachineCPUUsage, to end: MachineCPUUsage) -> Double {
        let total = end.totalTicks - start.totalTicks
        return total > 0 ? Double(end.busyTicks - start.busyTicks) * 100 / Double(total) : 0
    }
}

/// Linux pressure-stall information for the CPU (/proc/pressure/cpu): the microseconds during
/// which at least one runnable task waited for a CPU. Unlike /proc/stat's tick-sampled busy
/// time, it is exact for bursty event-driven loads, and it measures what matters here: whether
/// the server or the generator had to wait for a core.
public enum CPUPressure {
    /// The `some … total=` counter, microseconds; nil without PSI.
    public static func stallMicroseconds() -> Int64? {
        ProcessUsage.readText("/proc/pressure/cpu").flatMap(parse(pressure:))
    }

    /// The `some` line's `total=` of a /proc/pressure/cpu text.
    public static func parse(pressure: String) -> Int64? {
        guard let line = pressure.split(separator: "\n").first(where: { $0.hasPrefix("some ") }),
              let total = line.split(separator: " ").first(where: { $0.hasPrefix("total=") }) else { return nil }
        return Int64(total.dropFirst("total=".count))
    }
}
