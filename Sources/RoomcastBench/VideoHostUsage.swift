#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The machine the benchmark runs on.
public enum VideoHost {
    /// Online cores.
    public static var cores: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }
}

/// Datagrams the kernel dropped because a receiving socket's buffer was full: the load
/// generator did not read fast enough, so such loss is not the server's.
public enum VideoSocketDrops {
    /// The sum of the `drops` column of /proc/net/udp over sockets bound to `ports`.
    public static func read(ports: Set<Int>) -> UInt64 {
        guard let text = ProcessUsage.readText("/proc/net/udp") else { return 0 }
        return parse(netUDP: text, ports: ports)
    }

    /// The same over a /proc/net/udp text.
    public static func parse(netUDP text: String, ports: Set<Int>) -> UInt64 {
        var drops: UInt64 = 0
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            // sl local_address rem_address st tx:rx tr:tm retrnsmt uid timeout inode ref pointer drops
            guard fields.count >= 13, let colon = fields[1].lastIndex(of: ":"),
                  let port = Int(fields[1][fields[1].index(after: colon)...], radix: 16), ports.contains(port),
                  let value = UInt64(fields[fields.count - 1]) else { continue }
            drops += value
        }
        return drops
    }
}
