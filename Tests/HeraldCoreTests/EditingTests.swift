import HeraldCore
import Testing

/// The designer's graph edits: each applies whole or is refused and changes nothing.
@Suite struct EditingTests {
    /// audience → wait → mail → end
    static let chain = Campaign(
        name: "Chain",
        nodes: [
            Fixtures.node("audience", Fixtures.audience("age >= 18")), Fixtures.node("wait", .wait(duration: "3d")),
            Fixtures.node("mail", .wait(duration: "1h")), Fixtures.node("end", .end),
        ],
        edges: [Edge(from: "audience", to: "wait"), Edge(from: "wait", to: "mail"), Edge(from: "mail", to: "end")])

    @Test func freshIDsNeverCollide() {
        #expect(Self.chain.freshID("wait") == "wait2")
        #expect(Self.chain.freshID("split") == "split")
        var c = Self.chain
        c.nodes.append(Fixtures.node("wait2", .wait(duration: "1d")))
        #expect(c.freshID("wait") == "wait3")
    }

    @Test func addingAfterAConnectedPortInsertsTheNode() throws {
        var c = Self.chain
        try c.add(Fixtures.node("wait2", .wait(duration: "1d")), after: PortRef(node: "wait", port: .out))
        #expect(c.outbound("wait").map(\.to) == ["wait2"])
        #expect(c.outbound("wait2").map(\.to) == ["mail"])
        #expect(c.topologicalOrder() == ["audience", "wait", "wait2", "mail", "end"])
    }

    @Test func addingAfterAFreePortConnectsIt() throws {
        var c = Self.chain
        try c.delete("end")
        try c.add(Fixtures.node("end2", .end), after: PortRef(node: "mail", port: .out))
        #expect(c.inbound("end2").map(\.from) == ["mail"])
    }

    @Test func refusedAddsChangeNothing() {
        var c = Self.chain
        #expect(throws: EditRefusal.self) { try c.add(Fixtures.node("wait", .end), after: nil) }  // id taken
        #expect(throws: EditRefusal.self) {
            try c.add(Fixtures.node("other", Fixtures.audience("age > 1")), after: PortRef(node: "wait", port: .out))
        }  // a Build audience starts a branch
        #expect(throws: EditRefusal.self) { try c.add(Fixtures.node("x", .end), after: PortRef(node: "wait", port: .complement)) }
        #expect(c == Self.chain)
    }

    @Test func deletingAMiddleNodeBridgesItsNeighbours() throws {
        var c = Self.chain
        try c.delete("wait")
        #expect(c.node("wait") == nil)
        #expect(c.edges.contains(Edge(from: "audience", to: "mail")))
        #expect(c.edges.count == 2)
        // A node with no successor just goes, with its transition.
        try c.delete("end")
        #expect(c.edges == [Edge(from: "audience", to: "mail")])
    }

    @Test func connectingReplacesAndRefusesLoops() throws {
        var c = Self.chain
        try c.connect(PortRef(node: "audience", port: .out), to: "mail", port: .input)
        #expect(c.outbound("audience").map(\.to) == ["mail"])
        // mail's input had one transition (from wait); it is replaced, so wait leads nowhere.
        #expect(c.outbound("wait").isEmpty)
        let before = c
        #expect(throws: EditRefusal.self) { try c.connect(PortRef(node: "end", port: .out), to: "audience", port: .input) }
        #expect(throws: EditRefusal.self) { try c.connect(PortRef(node: "mail", port: .out), to: "audience", port: .input) }
        #expect(throws: EditRefusal.self) { try c.connect(PortRef(node: "mail", port: .out), to: "mail", port: .input) }
        #expect(c == before)
    }

    @Test func connectingTheSecondInputOfACombine() throws {
        var c = Campaign(
            name: "Two",
            nodes: [
                Fixtures.node("a", Fixtures.audience("age > 1")), Fixtures.node("b", Fixtures.audience("age > 2")),
                Fixtures.node("both", .combine(.union)),
            ],
            edges: [Edge(from: "a", to: "both", toPort: .primary)])
        try c.connect(PortRef(node: "b", port: .out), to: "both", port: .secondary)
        #expect(Set(c.inbound("both").map(\.toPort)) == [.primary, .secondary])
        #expect(throws: EditRefusal.self) { try c.connect(PortRef(node: "b", port: .out), to: "both", port: .input) }
    }

    @Test func replacingKeepsTheTransitionsTheNewPortsStillHave() throws {
        var c = Self.chain
        try c.replace("wait", with: Node(id: "wait", label: "Two days", config: .wait(duration: "2d")))
        #expect(c.node("wait")?.label == "Two days")
        #expect(c.edges == Self.chain.edges)
        #expect(throws: EditRefusal.self) { try c.replace("wait", with: Fixtures.node("other", .end)) }
    }

    @Test func duplicatingABranchCopiesItsInnerTransitions() throws {
        var c = Self.chain
        let copies = try c.duplicate(["wait", "mail", "end"])
        #expect(copies.count == 3)
        let wait = try #require(copies["wait"])
        let mail = try #require(copies["mail"])
        #expect(c.edges.contains(Edge(from: wait, to: mail)))
        #expect(c.inbound(wait).isEmpty)  // the copy is not connected to what led to the original
        #expect(c.node(wait)?.label.hasSuffix("(copy)") == true)
    }

    /// The node form's fields are the ones the file format allows, and a form's values read back
    /// as the node they came from.
    @Test func formFieldsRoundTripEveryKind() throws {
        for node in CampaignFormatTests.sample.nodes {
            let texts = CampaignFormat.fieldTexts(of: node)
            let back = try CampaignFormat.node(id: node.id, kind: node.kind, label: node.label, note: node.note ?? "", fields: texts)
            #expect(back == node, "\(node.id)")
        }
        #expect(throws: HeraldError.self) {
            try CampaignFormat.node(id: "s", kind: .split, label: "S", note: "", fields: ["subsets": "[{\"label\": "])
        }
        #expect(throws: HeraldError.self) {
            try CampaignFormat.node(id: "b", kind: .buildAudience, label: "B", note: "", fields: ["entity": "profiles", "rule": ""])
        }
    }

    @Test func startsBranchAgreesWithTheNodeDefinitions() {
        for node in CampaignFormatTests.sample.nodes { #expect(node.kind.startsBranch == node.startsBranch, "\(node.kind)") }
    }
}

/// Typed field values: stepping and reading.
@Suite struct FieldValueTests {
    @Test func numbersStepWithinTheirBounds() {
        let branches = NodeFieldValue.wholeNumber(min: 2, max: 16)
        #expect(branches.step("", by: 1) == "2")
        #expect(branches.step("2", by: -1) == "2")
        #expect(branches.step("15", by: 1) == "16")
        #expect(branches.step("16", by: 1) == "16")
        #expect(branches.step("many", by: 1) == nil)
    }

    @Test func percentagesStepToTheNextMultipleOfFive() {
        #expect(NodeFieldValue.percentage.step("", by: 1) == "50")
        #expect(NodeFieldValue.percentage.step("50", by: 1) == "55")
        #expect(NodeFieldValue.percentage.step("33", by: 1) == "35")
        #expect(NodeFieldValue.percentage.step("33", by: -1) == "30")
        #expect(NodeFieldValue.percentage.step("100", by: 1) == "100")
        #expect(NodeFieldValue.percentage.step("0", by: -1) == "0")
    }

    @Test func durationsTimesAndDatesStepByTheirUnit() {
        #expect(NodeFieldValue.duration.step("", by: 1) == "1d")
        #expect(NodeFieldValue.duration.step("3d", by: 1) == "4d")
        #expect(NodeFieldValue.duration.step("1h", by: -1) == "1h")
        #expect(NodeFieldValue.duration.step("3 days", by: 1) == nil)
        #expect(NodeFieldValue.timeOfDay.step("09:10", by: 1) == "09:15")
        #expect(NodeFieldValue.timeOfDay.step("09:10", by: -1) == "09:00")
        #expect(NodeFieldValue.timeOfDay.step("09:00", by: -1) == "08:45")
        #expect(NodeFieldValue.timeOfDay.step("23:50", by: 1) == "00:00")
        #expect(NodeFieldValue.timeOfDay.step("00:00", by: -1) == "23:45")
        #expect(NodeFieldValue.dateTime.step("2027-02-28T09:00", by: 1) == "2027-03-01T09:00")
        #expect(NodeFieldValue.dateTime.step("2028-02-28T09:00", by: 1) == "2028-02-29T09:00")
        #expect(NodeFieldValue.dateTime.step("2027-02-30T09:00", by: 1) == nil)
    }

    @Test func valuesReadInWords() {
        #expect(NodeFieldValue.duration.reading("3d") == "3 days")
        #expect(NodeFieldValue.duration.reading("1w") == "1 week")
        #expect(NodeFieldValue.duration.reading("3x") == nil)
        #expect(NodeFieldValue.dateTime.reading("2027-03-28T09:00") == "Sunday 28 March 2027, 09:00")
        #expect(NodeFieldValue.dateTime.reading("1970-01-01") == "Thursday 1 January 1970")
        #expect(NodeFieldValue.timeOfDay.reading("09:30") == "the next 09:30 in the campaign's time zone")
    }
}
