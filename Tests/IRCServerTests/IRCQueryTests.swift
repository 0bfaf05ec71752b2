import IRCProtocol
import RoomcastTestSupport
import Testing

@Suite(.timeLimit(.minutes(1)))
struct IRCQueryTests {
    @Test func whoWhoisListTopicModeIsonUserhost() async throws {
        try await withIRCServer { port, _ in
            let alice = try await TestIRCClient.registered(port: port, nick: "alice")
            let bob = try await TestIRCClient.registered(port: port, nick: "bob")
            for client in [alice, bob] {
                try await client.send("JOIN #lobby,#games")
                _ = try await client.waitFor("names") { $0.command == "366" && $0.parameters[1] == "#games" }
            }

            try await alice.send("TOPIC #lobby :Friday lunch")
            let topic = try await bob.waitFor("topic change") { $0.command == "TOPIC" }
            #expect(topic.parameters == ["#lobby", "Friday lunch"])
            try await bob.send("TOPIC #lobby")
            let current = try await bob.waitFor("332") { $0.command == "332" }
            #expect(current.parameters == ["bob", "#lobby", "Friday lunch"])
            _ = try await bob.waitFor("333") { $0.command == "333" && $0.parameters[2].hasPrefix("alice!") }
            try await bob.send("TOPIC #games")
            _ = try await bob.waitFor("331") { $0.command == "331" }

            try await alice.send("WHO #lobby")
            var who: [String] = []
            while true {
                let reply = try await alice.waitFor("who") { $0.command == "352" || $0.command == "315" }
                if reply.command == "315" { break }
                who.append(reply.parameters[5])
            }
            #expect(who.sorted() == ["alice", "bob"])

            try await alice.send("WHOIS Bob")
            let user = try await alice.waitFor("311") { $0.command == "311" }
            #expect(user.parameters.prefix(4) == ["alice", "bob", "~bob", "127.0.0.1"])
            let rooms = try await alice.waitFor("319") { $0.command == "319" }
            #expect(Set((rooms.parameters.last ?? "").split(separator: " ")) == ["#games", "#lobby"])
            _ = try await alice.waitFor("318") { $0.command == "318" }
            try await alice.send("WHOIS nobody")
            _ = try await alice.waitFor("401") { $0.command == "401" }

            try await alice.send("LIST")
            var listed: [[String]] = []
            while true {
                let reply = try await alice.waitFor("list") { $0.command == "322" || $0.command == "323" }
                if reply.command == "323" { break }
                listed.append(Array(reply.parameters.dropFirst()))
            }
            #expect(listed == [["#games", "2", ""], ["#lobby", "2", "Friday lunch"]])

            try await alice.send("MODE #lobby")
            _ = try await alice.waitFor("324") { $0.command == "324" && $0.parameters.last == "+nt" }
            try await alice.send("MODE #lobby b")
            _ = try await alice.waitFor("368") { $0.command == "368" }
            try await alice.send("MODE #lobby +o bob")
            _ = try await alice.waitFor("482") { $0.command == "482" }
            try await alice.send("MODE alice +i")
            _ = try await alice.waitFor("221") { $0.command == "221" }
            try await alice.send("MODE bob +i")
            _ = try await alice.waitFor("502") { $0.command == "502" }

            try await alice.send("ISON bob nobody ALICE")
            let ison = try await alice.waitFor("303") { $0.command == "303" }
            #expect(ison.parameters.last == "bob alice")
            try await alice.send("USERHOST bob")
            let userhost = try await alice.waitFor("302") { $0.command == "302" }
            #expect(userhost.parameters.last == "bob=+~bob@127.0.0.1")

            try await bob.send("JOIN 0")
            _ = try await alice.waitFor("bob leaves #games") { $0.command == "PART" && $0.parameters.first == "#games" }
            _ = try await alice.waitFor("bob leaves #lobby") { $0.command == "PART" && $0.parameters.first == "#lobby" }
        }
    }
}
