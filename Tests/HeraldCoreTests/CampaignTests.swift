import HeraldCore
import Testing

@Suite struct CampaignFormatTests {
    static let sample = Campaign(
        name: "Spring sale", description: "Tests \"quotes\" and ünïcode", timeZone: "Europe/Paris",
        variables: [("minimum", .integer(18)), ("label", .text("VIP"))],
        nodes: [
            Fixtures.node("audience", Fixtures.audience("age >= $minimum and country in (\"FR\", \"DE\")")),
            Node(
                id: "split", label: "A/B", note: "half and half",
                config: .split(
                    seed: 42,
                    subsets: [
                        SplitSubset(label: "Young", rule: try! Rule(parsing: "age < 30")),
                        SplitSubset(label: "A", limit: .percent(50)), SplitSubset(label: "Top 10", limit: .count(10)),
                        SplitSubset(label: "Odd", limit: .percent(12.5)),
                    ], overlap: false, skipEmpty: true)),
            Fixtures.node("wait", .wait(duration: "3d")),
            Node(
                id: "mail", label: "Mail",
                config: .message(
                    .email,
                    ChannelSettings(
                        category: .marketing, messagePer: .profile,
                        content: [("subject", "Hi {{profile.first_name}}"), ("text", "Line\nTwo")],
                        frequencyCap: FrequencyCap(maxMessages: 2, days: 30)))),
            Fixtures.node("end", .end),
            Fixtures.node("saved", .readAudience(audience: "VIP", emitWhenEmpty: true)),
            Fixtures.node("end2", .end),
        ],
        edges: [
            Edge(from: "audience", to: "split"), Edge(from: "split", port: "subset1", to: "wait"),
            Edge(from: "wait", to: "mail"), Edge(from: "mail", to: "end"), Edge(from: "saved", to: "end2"),
        ])

    /// Ports are typed: each kind's ports print as their file names and read back as the same
    /// value; names no kind has stay unknown, verbatim, for validation to report.
    @Test func portsPrintAndReadBack() {
        let typed: [PortName] = [.out, .input, .complement, .fallback, .primary, .secondary, .subset(3), .branch(12), .joined(2)]
        #expect(typed.map(\.name) == ["out", "in", "complement", "default", "primary", "secondary", "subset3", "branch12", "in2"])
        for port in typed { #expect(PortName(name: port.name) == port) }
        for odd in ["subset0", "subset03", "branch", "in-1", "Out", "subset1x"] { #expect(PortName(name: odd) == .unknown(odd)) }
        let split = Node(
            id: "s", label: "S",
            config: .split(seed: 1, subsets: [SplitSubset(label: "A", limit: .percent(50))], overlap: false, skipEmpty: false))
        #expect(split.outputPorts == [.subset(1), .complement])
        #expect(split.portLabel(.subset(1)) == "A" && split.portLabel(.subset(2)) == "subset2")
    }

    @Test func roundTripIsExact() throws {
        let text = CampaignFormat.encodeText(Self.sample)
        let decoded = try CampaignFormat.decode(text: text)
        #expect(decoded == Self.sample)
        #expect(CampaignFormat.encodeText(decoded) == text)
    }

    /// Delivery settings read back as written: a send window, a throttle, one message per related row.
    @Test func deliverySettingsRoundTrip() throws {
        var settings = ChannelSettings(
            messagePer: .related, content: [("subject", "Trip {{target.departs}}"), ("text", "Hi")],
            sendWindow: try SendWindow(parsing: "09:00-20:00 mon-fri"), throttle: DeliveryRate(messages: 50, seconds: 60))
        settings.related = RelatedMessages(link: "bookings", rule: try Rule(parsing: #"status = "confirmed""#))
        var campaign = Campaign(name: "Trips")
        campaign.nodes = [Node(id: "m", label: "M", config: .message(.email, settings))]
        let text = CampaignFormat.encodeText(campaign)
        #expect(text.contains(#""sendWindow": "09:00-20:00 mon-fri""#) && text.contains(#""throttle": "50/min""#))
        #expect(text.contains(#""link": "bookings""#) && text.contains(#""where": "status = \"confirmed\"""#))
        #expect(try CampaignFormat.decode(text: text) == campaign)
        for (bad, message) in [
            (#""sendWindow": "20:00-09:00""#, "nodes[0] ('m').sendWindow: the window must end after it starts"),
            (#""throttle": "fast""#, "nodes[0] ('m').throttle: expected messages per second"),
            (#""related": {"link": "bookings", "when": "x"}"#, "nodes[0] ('m').related: unknown field 'when'"),
            (#""messagePer": "each""#, "nodes[0] ('m').messagePer: expected 'profile', 'entity' or 'related'"),
        ] {
            let broken =
                #"{"format": "herald.campaign/2", "name": "B", "nodes": [{"id": "m", "kind": "email", "subject": "s", "text": "t", "#
                + bad + "}]}"
            #expect(throws: HeraldError.self) { try CampaignFormat.decode(text: broken) }
            do { _ = try CampaignFormat.decode(text: broken) } catch { #expect("\(error)".contains(message), "\(error)") }
        }
    }

    @Test func encodingIsStableAndReadable() {
        let text = CampaignFormat.encodeText(Self.sample)
        #expect(text.hasPrefix("{\n  \"format\": \"herald.campaign/2\",\n  \"name\": \"Spring sale\","))
        #expect(text.contains("\"rule\": \"age >= $minimum and country in (\\\"FR\\\", \\\"DE\\\")\""))
        #expect(text.hasSuffix("}\n"))
    }

    @Test(arguments: [
        (
            #"{"format": "herald.campaign/1", "name": "x", "nodes": [], "edgez": []}"#,
            "campaign: unknown field 'edgez'; did you mean 'edges'?"
        ),
        (#"{"format": "herald.campaign/9", "name": "x", "nodes": []}"#, "written by a newer Herald"),
        (#"{"format": "herald.campaign/1", "name": 3, "nodes": []}"#, "campaign.name: expected text, found a number"),
        (#"{"format": "herald.campaign/1", "name": "x"}"#, "campaign.nodes: missing"),
        (
            #"{"format": "herald.campaign/1", "name": "x", "nodes": [{"id": "a", "kind": "spilt"}]}"#,
            "unknown node kind 'spilt'; did you mean 'split'?"
        ),
        (
            #"{"format": "herald.campaign/1", "name": "x", "nodes": [{"id": "a", "kind": "wait", "duraton": "3d"}]}"#,
            "nodes[0] ('a'): unknown field 'duraton'"
        ),
        (
            #"{"format": "herald.campaign/1", "name": "x", "nodes": [{"id": "a", "kind": "buildAudience", "entity": "p", "rule": "x = "}]}"#,
            "nodes[0] ('a').rule: expected a value"
        ),
        (
            #"{"format": "herald.campaign/1", "name": "x", "nodes": [{"id": "s", "kind": "split", "subsets": [{"label": "A", "count": 1, "percent": 2}]}]}"#,
            "give either 'count' or 'percent'"
        ),
        (#"{"format": "herald.campaign/1", "name": "x", "nodes": [] "#, "line 1, column 58: unexpected end of the document"),
        ("{\"format\": \"herald.campaign/1\",\n \"name\": \"x\",\n \"nodes\": [,]}", "line 3, column 12"),
    ])
    func decodingErrorsNameTheField(text: String, message: String) {
        do {
            _ = try CampaignFormat.decode(text: text)
            Issue.record("should not decode: \(text)")
        } catch {
            #expect("\(error)".contains(message), "\(error)")
        }
    }
}

@Suite struct CampaignValidatorTests {
    let validator = CampaignValidator(catalog: Fixtures.catalog)

    func messages(_ campaign: Campaign) -> [String] { validator.validate(campaign).map(\.description) }

    @Test func theSampleIsValid() {
        #expect(messages(CampaignFormatTests.sample) == [])
    }

    @Test func everyProblemIsReportedWithNodeAndField() {
        let campaign = Campaign(
            name: "Broken", timeZone: "Mars/Olympus",
            nodes: [
                Fixtures.node("a", Fixtures.audience("contry = \"FR\"")),
                Fixtures.node("b", .split(seed: 1, subsets: [], overlap: false, skipEmpty: false)),
                Fixtures.node("c", .wait(duration: "soon")),
                Fixtures.node("d", Fixtures.email(subject: "")),
                Fixtures.node("e", .end),
                Fixtures.node("f", .end),
            ],
            edges: [
                Edge(from: "a", to: "b"), Edge(from: "b", port: "subset7", to: "c"), Edge(from: "b", port: "complement", to: "c"),
                Edge(from: "b", port: "complement", to: "d"), Edge(from: "c", to: "zz"), Edge(from: "e", to: "f"), Edge(from: "d", to: "e"),
            ])
        let found = messages(campaign)
        let expected = [
            "timeZone: 'Mars/Olympus' is not an IANA time zone",
            "node 'b', edges[1]: no output port 'subset7' on this Split node; its ports are complement",
            "node 'b', edges[3]: port 'complement' is connected twice",
            "edges[4]: ends at unknown node 'zz'",
            "node 'c': 2 transitions lead to this node",
            "node 'a', rule: unknown attribute 'contry' on 'profiles'; did you mean 'country'?",
            "node 'b', subsets: a split needs at least one subset",
            "node 'c', duration: expected a positive duration such as 30m, 12h, 3d or 2w, found 'soon'",
            "node 'd', subject: the Email content needs 'subject'",
        ]
        for e in expected {
            #expect(found.contains { $0.hasPrefix(e) }, "missing: \(e)\nfound:\n\(found.joined(separator: "\n"))")
        }
    }

    @Test func changeDimensionMovesThePopulationAlongALink() throws {
        func campaign(_ link: String, splitRule: String) -> Campaign {
            Campaign(
                name: "Move",
                nodes: [
                    Fixtures.node("a", Fixtures.audience("age > 3")),
                    Fixtures.node("c", .changeDimension(link: link)),
                    Fixtures.node(
                        "s",
                        .split(
                            seed: 1, subsets: [SplitSubset(label: "A", rule: try! Rule(parsing: splitRule))], overlap: false,
                            skipEmpty: false)),
                    Fixtures.node(
                        "k",
                        .split(
                            seed: 1, subsets: [SplitSubset(label: "B", rule: try! Rule(parsing: "age > 5"))], overlap: false,
                            skipEmpty: false)),
                ],
                edges: [Edge(from: "a", to: "c"), Edge(from: "c", to: "s"), Edge(from: "c", port: "complement", to: "k")])
        }
        let validator = CampaignValidator(catalog: Fixtures.catalog)
        #expect(validator.validate(campaign("bookings", splitRule: "status = \"x\"")) == [])
        #expect(
            validator.validate(campaign("bookings", splitRule: "age > 3")).map(\.description).contains {
                $0.contains("unknown attribute 'age' on 'bookings'")
            })
        #expect(
            validator.validate(campaign("bokings", splitRule: "status = \"x\"")).map(\.description).contains(
                "node 'c', link: 'profiles' has no link 'bokings'; did you mean 'bookings'?"))
        let text = CampaignFormat.encodeText(campaign("bookings", splitRule: "status = \"x\""))
        #expect(text.contains("\"kind\": \"changeDimension\""))
        #expect(try CampaignFormat.decode(text: text) == campaign("bookings", splitRule: "status = \"x\""))
    }

    @Test func readAudienceNeedsAKnownAudienceAndGivesItsDimension() {
        let campaign = Campaign(
            name: "Saved",
            nodes: [
                Fixtures.node("r", .readAudience(audience: "Big spenders", emitWhenEmpty: false)),
                Fixtures.node(
                    "s",
                    .split(
                        seed: 1, subsets: [SplitSubset(label: "A", rule: try! Rule(parsing: "status = \"x\""))], overlap: false,
                        skipEmpty: false)),
            ],
            edges: [Edge(from: "r", to: "s")])
        let known = CampaignValidator(catalog: Fixtures.catalog, audiences: ["Big spenders": "bookings"])
        #expect(known.validate(campaign) == [])
        let onProfiles = CampaignValidator(catalog: Fixtures.catalog, audiences: ["Big spenders": "profiles"])
        #expect(onProfiles.validate(campaign).map(\.description).contains { $0.contains("unknown attribute 'status' on 'profiles'") })
        let missing = CampaignValidator(catalog: Fixtures.catalog, audiences: ["Big spender": "bookings"])
        #expect(
            missing.validate(campaign).map(\.description).contains(
                "node 'r', audience: no saved audience named 'Big spenders'; did you mean 'Big spender'?"))
    }

    @Test func cyclesAreFound() {
        let campaign = Campaign(
            name: "Loop",
            nodes: [Fixtures.node("a", .wait(duration: "1d")), Fixtures.node("b", .wait(duration: "1d"))],
            edges: [Edge(from: "a", to: "b"), Edge(from: "b", to: "a")])
        #expect(messages(campaign).contains("edges: the graph has a cycle; campaigns must flow one way"))
    }

    @Test func messagesNeedAProfileDimension() {
        let campaign = Campaign(
            name: "Products",
            nodes: [Fixtures.node("a", Fixtures.audience("price > 3", entity: "products")), Fixtures.node("m", Fixtures.email())],
            edges: [Edge(from: "a", to: "m")])
        #expect(
            messages(campaign).contains { $0.contains("the population is 'products', which has no link to the profile entity 'profiles'") })
        let bookings = Campaign(
            name: "Per booking",
            nodes: [
                Fixtures.node("a", Fixtures.audience("status = \"confirmed\"", entity: "bookings")), Fixtures.node("m", Fixtures.email()),
            ],
            edges: [Edge(from: "a", to: "m")])
        #expect(messages(bookings) == [])
    }

    @Test func splitRulesAreCheckedAgainstTheInboundDimension() {
        let campaign = Campaign(
            name: "Split on bookings",
            nodes: [
                Fixtures.node("a", Fixtures.audience("status = \"confirmed\"", entity: "bookings")),
                Fixtures.node(
                    "s",
                    .split(
                        seed: 1, subsets: [SplitSubset(label: "FR", rule: try! Rule(parsing: "country = \"FR\""))], overlap: false,
                        skipEmpty: false)),
            ],
            edges: [Edge(from: "a", to: "s")])
        #expect(messages(campaign).contains { $0.hasPrefix("node 's', subsets[0].rule: unknown attribute 'country' on 'bookings'") })
    }

    @Test func percentagesOverAHundredAreRefused() {
        let campaign = Campaign(
            name: "Too much",
            nodes: [
                Fixtures.node("a", Fixtures.audience("true")),
                Fixtures.node(
                    "s",
                    .split(
                        seed: 1, subsets: [SplitSubset(label: "A", limit: .percent(60)), SplitSubset(label: "B", limit: .percent(50))],
                        overlap: false, skipEmpty: false)),
            ],
            edges: [Edge(from: "a", to: "s")])
        #expect(messages(campaign).contains { $0.contains("percentages add up to 110.0%") })
    }
}

@Suite struct CampaignProblemsTests {
    let validator = CampaignValidator(catalog: Fixtures.catalog)

    func messages(_ campaign: Campaign) -> [String] { validator.validate(campaign).map(\.description) }

    @Test func aChannelWithoutAnAddressColumnIsAProblem() {
        let campaign = Campaign(
            name: "Texts",
            nodes: [
                Fixtures.node("a", Fixtures.audience("true")),
                Fixtures.node("t", .message(.sms, ChannelSettings(content: [("text", "Hi")]))),
            ],
            edges: [Edge(from: "a", to: "t")])
        #expect(
            messages(campaign) == [
                "node 't': the profile entity 'profiles' has no phone number column, so no one can receive this sms message (name it with 'herald catalog profile profiles --phone COLUMN')"
            ])
    }

    @Test func templateFieldsMustExist() {
        let campaign = Campaign(
            name: "Mail",
            nodes: [
                Fixtures.node("a", Fixtures.audience("status = \"confirmed\"", entity: "bookings")),
                Fixtures.node(
                    "m",
                    Fixtures.email(
                        subject: "{{profile.first_name}} {{ profile.frist_name }}",
                        text:
                            "{{#target.profile.home.country}}{{target.amount}}{{/target.profile.home.country}} {{target.destination.city}} {{city}} {{! a comment }}"
                    )),
            ],
            edges: [Edge(from: "a", to: "m")])
        #expect(
            messages(campaign) == [
                "node 'm', subject: '{{profile.frist_name}}': unknown attribute 'frist_name' on 'profiles'; did you mean 'first_name'?",
                "node 'm', text: '{{target.destination.city}}': 'bookings' has no link 'destination'",
                "node 'm', text: '{{city}}' names no field; write profile.<attribute> or target.<attribute>",
            ])
    }

    /// A node that cannot be read (an unknown kind) is reported with everything else.
    @Test func anUnreadableNodeDoesNotHideTheOtherProblems() throws {
        var document = CampaignFormat.encode(CampaignFormatTests.sample)
        guard case .object(var top) = document, let nodesAt = top.firstIndex(where: { $0.0 == "nodes" }),
            case .array(var nodes) = top[nodesAt].1, case .object(var split) = nodes[1], case .object(var audience) = nodes[0]
        else {
            Issue.record("unexpected sample shape")
            return
        }
        func set(_ pairs: inout [(String, JSONValue)], _ key: String, _ value: JSONValue) {
            if let at = pairs.firstIndex(where: { $0.0 == key }) { pairs[at].1 = value }
        }
        set(&split, "kind", .string("splitt"))
        nodes[1] = .object(split)
        set(&audience, "rule", .string("nosuch = 1 or age > 3 and other = 2"))
        nodes[0] = .object(audience)
        top[nodesAt] = ("nodes", .array(nodes))
        document = .object(top)
        let decoded = try CampaignFormat.decodeAll(document)
        #expect(decoded.undecodedNodes == ["split"])
        let found = validator.validate(decoded).map(\.description)
        #expect(found.count == 2, "\(found)")
        #expect(found.first?.contains("nodes[1] ('split').kind: unknown node kind 'splitt'; did you mean 'split'?") == true)
        #expect(found.last?.hasPrefix("node 'audience', rule: unknown attribute 'nosuch' on 'profiles'") == true)
        #expect(found.last?.contains("; unknown attribute 'other' on 'profiles'") == true)
        #expect(throws: HeraldError.self) { try validator.requireValid(decoded) }
    }

    @Test func duplicateNodeIdsAreAProblemNotACrash() {
        let campaign = Campaign(
            name: "Twice",
            nodes: [Fixtures.node("a", Fixtures.audience("true")), Fixtures.node("a", .end), Fixtures.node("b", .end)],
            edges: [Edge(from: "a", to: "b")])
        #expect(messages(campaign).contains("node 'a', nodes[1].id: nodes[0] and nodes[1] share this id; node ids must be unique"))
        #expect(campaign.topologicalOrder() == ["a", "b"])
    }
}

@Suite struct NamesTests {
    @Test func countsArePluralised() {
        #expect(Names.counted(1, "profile") == "1 profile")
        #expect(Names.counted(2, "category") == "2 categories")
        #expect(Names.counted(1_000, "address") == "1,000 addresses")
        #expect(Names.counted(1, entity: "profiles") == "1 profile")
        #expect(Names.counted(1, entity: "categories") == "1 category")
        #expect(Names.counted(1, entity: "addresses") == "1 address")
        #expect(Names.counted(3, entity: "bookings") == "3 bookings")
        #expect(Names.counted(1, entity: "status") == "1 status")
    }

    @Test(arguments: [(0, "0"), (999, "999"), (1000, "1k"), (12_430, "12.4k"), (999_999, "999k"), (1_250_000, "1.2M"), (-1500, "-1.5k")])
    func compactCounts(value: Int, text: String) { #expect(Names.compactCount(value) == text) }

    @Test func groupedCounts() {
        #expect(Names.groupedCount(1_234_567) == "1,234,567")
        #expect(Names.groupedCount(12) == "12")
    }

    @Test func dates() {
        #expect(TemporalText.isDate("2024-02-29"))
        #expect(!TemporalText.isDate("2023-02-29"))
        #expect(TemporalText.isDateTime("2026-01-31T09:30:00Z"))
        #expect(TemporalText.isDateTime("2026-01-31 09:30:00.125+02:00"))
        #expect(!TemporalText.isDateTime("2026-01-31T25:30"))
    }
}
