import CoreMetrics
import NIOCore
import Synchronization

/// Counts connections in total and per address, and remembers the live ones so shutdown can
/// say goodbye to each.
final class ConnectionLimiter: Sendable {
    private struct State {
        var perAddress: [String: Int] = [:]
        var channels: [ObjectIdentifier: any Channel] = [:]
    }

    private let maxTotal: Int
    private let maxPerAddress: Int
    private let state = Mutex(State())
    private let gauge: Meter

    /// `gauge` follows the number of admitted connections.
    init(maxTotal: Int, maxPerAddress: Int, gauge: Meter) {
        self.maxTotal = maxTotal
        self.maxPerAddress = maxPerAddress
        self.gauge = gauge
    }

    /// Why a connection was refused.
    enum Refusal: Error { case total, perAddress }

    /// Admits `channel` from `address` or says why not.
    func admit(_ channel: any Channel, address: String) throws(Refusal) {
        try state.withLock { (state) throws(Refusal) in
            guard state.channels.count < maxTotal else { throw .total }
            guard state.perAddress[address, default: 0] < maxPerAddress else { throw .perAddress }
            state.perAddress[address, default: 0] += 1
            state.channels[ObjectIdentifier(channel)] = channel
            gauge.set(state.channels.count)
        }
    }

    /// Forgets an admitted channel.
    func release(_ channel: any Channel, address: String) {
        state.withLock { state in
            guard state.channels.removeValue(forKey: ObjectIdentifier(channel)) != nil else { return }
            let left = state.perAddress[address, default: 1] - 1
            state.perAddress[address] = left > 0 ? left : nil
            gauge.set(state.channels.count)
        }
    }

    /// The channels admitted and not yet released.
    var liveChannels: [any Channel] {
        state.withLock { Array($0.channels.values) }
    }
}
