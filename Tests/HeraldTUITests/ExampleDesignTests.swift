import Foundation
import HeraldCore
import HeraldStore
import HeraldTUI
import Testing

/// Each example campaign of sample.db designed from scratch with keys only, as a person would:
/// a new campaign from the list, its settings, every node from the kind menu after the port it
/// follows, every field through its widget (pickers, toggles, list and object editors, typed
/// text), the other inputs of Combine and And-join connected with c, then saved. What is saved
/// is the example, node for node (the designer names nodes itself; nothing else differs).
@Suite struct ExampleDesignTests {
    static let examples = ["Welcome series", "Departure reminder", "Summer sale", "Beach brochure", "Win-back"]

    @Test(arguments: examples)
    func designedFromScratch(_ name: String) throws {
        let example = try HeraldTUITestsData.campaign(named: name)
        let (store, folder) = try HeadlessTests.sampleCopy()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let session = HeadlessSession(store: store, width: 120, height: 40)
        #expect(session.waitUntilIdle())
        let designer = Designer(session: session)
        let designedName = name + " (designed)"
        try designer.newCampaign(designedName)
        try designer.settings(of: example)
        let ids = try designer.nodes(of: example)
        session.press(.char("w"))
        #expect(session.waitUntilIdle())
        #expect(session.state.status == "saved '\(designedName)' as version 1", "\(session.state.status)")
        var expected = example
        expected.name = designedName
        let saved = try store.loadCampaign(.name(designedName)).campaign
        let designed = Designer.renamed(saved, ids)
        // Node by node first, so a difference is readable.
        for node in expected.nodes { #expect(designed.node(node.id) == node) }
        #expect(Set(designed.edges) == Set(expected.edges))
        // Nodes are kept in the order they were added, edges in the order they were drawn.
        var inOrder = designed
        inOrder.nodes = expected.nodes.compactMap { designed.node($0.id) }
        inOrder.edges = expected.edges.filter { designed.edges.contains($0) }
        #expect(inOrder.nodes.count == designed.nodes.count && inOrder.edges.count == designed.edges.count)
        #expect(inOrder == expected)
        session.close()
    }
}

/// Presses the keys that design a campaign, widget by widget.
struct Designer {
    let session: HeadlessSession

    struct Stuck: Error, CustomStringConvertible {
        var description: String
    }

    func stuck(_ what: String) -> Stuck {
        Stuck(description: "\(what); status '\(session.state.status)', modes \(session.state.modes.map(\.scope))")
    }

    func press(_ keys: Key...) { for key in keys { session.press(key) } }

    var form: NodeForm? { if case .nodeForm(let form) = session.state.modes.last { form } else { nil } }

    func newCampaign(_ name: String) throws {
        press(.char("n"))
        session.type("scratch")
        press(.enter)
        session.type(name)
        press(.enter)
        #expect(session.waitUntilIdle())
        guard session.state.screen == .canvas else { throw stuck("no canvas for the new campaign") }
    }

    /// Description, time zone and variables, from the settings menu.
    func settings(of campaign: Campaign) throws {
        func open(_ setting: String) {
            press(.char("s"))
            session.type(setting)
            press(.enter)
        }
        if !campaign.description.isEmpty {
            open("Description")
            session.type(campaign.description)
            press(.enter)
        }
        open("Time zone")
        session.type(campaign.timeZone)
        press(.enter)
        if !campaign.variables.isEmpty {
            open("Variables")
            session.type(CampaignFormat.variablesJSON(campaign.variables).compact())
            press(.enter)
        }
        guard session.state.canvas?.draft.timeZone == campaign.timeZone else { throw stuck("the time zone was not set") }
    }

    /// Every node after the port its first transition leaves, then the other transitions.
    /// Returns the designer's id of each of the campaign's nodes.
    func nodes(of campaign: Campaign) throws -> [NodeID: NodeID] {
        var ids: [NodeID: NodeID] = [:]
        guard let order = campaign.topologicalOrder() else { throw stuck("the example has a loop") }
        var later: [Edge] = []
        for id in order {
            guard let node = campaign.node(id) else { continue }
            // The main input first (Combine's primary, And-join's first input), the rest connected later.
            let inbound = campaign.inbound(id).sorted { a, b in
                (node.inputPorts.firstIndex(of: a.toPort) ?? 0) < (node.inputPorts.firstIndex(of: b.toPort) ?? 0)
            }
            if let first = inbound.first, let from = ids[first.from] {
                try select(from, port: first.port)
                press(.char("a"))
                // A node with several outputs and no port picked with Tab asks which one.
                if case .menu(let ports) = session.state.modes.last, ports.purpose == .addAfterPort {
                    session.type(first.port.description)
                    press(.enter)
                }
            } else {
                press(.char("A"))
            }
            later += inbound.dropFirst()
            guard case .menu = session.state.modes.last else { throw stuck("no kind menu for '\(id)'") }
            session.type(node.kind.title)
            press(.enter)
            guard form != nil else { throw stuck("no form for '\(id)'") }
            try fill(node)
            press(.char("w"))
            guard session.state.modes.isEmpty, let designed = session.state.canvas?.selected else {
                throw stuck("'\(id)' was not added: \(form?.messages ?? [])")
            }
            ids[id] = designed
        }
        for edge in later {
            guard let from = ids[edge.from], let to = ids[edge.to], let target = session.state.canvas?.draft.node(to) else {
                throw stuck("no node for \(edge)")
            }
            try select(from, port: edge.port)
            press(.char("c"), .char("/"))
            session.type(target.label)
            press(.enter)
            guard session.state.canvas?.draft.edges.contains(Edge(from: from, port: edge.port, to: to, toPort: edge.toPort)) == true else {
                throw stuck("\(edge) was not connected")
            }
        }
        return ids
    }

    /// Selects `node` with `:goto`, then its output `port` with Tab.
    func select(_ node: NodeID, port: PortName) throws {
        press(.char(":"))
        session.type("goto \(node)")
        press(.enter)
        for _ in 0..<20 where session.state.canvas?.selectedSource?.port != port { press(.tab) }
        guard session.state.canvas?.selectedSource == PortRef(node: node, port: port) else {
            throw stuck("cannot select port \(port) of '\(node)'")
        }
    }

    /// Fills the form on top with `node`'s label, note and fields.
    func fill(_ node: Node) throws {
        try type("label", node.label)
        if let note = node.note { try type("note", note) }
        let texts = CampaignFormat.fieldTexts(of: node)
        for field in node.kind.fields {
            guard let text = texts[field.name], !text.isEmpty else { continue }
            try set(field, text)
        }
    }

    /// Sets a field of the form on top through its widget.
    func set(_ field: NodeField, _ text: String) throws {
        try selectRow(field.name)
        switch field.structure {
        case .list(let itemFields):
            guard case .array(let items) = try JSONValue.parse(text) else { throw stuck("\(field.name) is not a list") }
            press(.enter)
            for item in items {
                press(.char("a"))
                guard case .object(let pairs) = item else { throw stuck("an item of \(field.name) is not an object") }
                let texts = CampaignFormat.texts(of: pairs, fields: itemFields)
                for itemField in itemFields { if let t = texts[itemField.name] { try set(itemField, t) } }
                press(.char("w"))
            }
            guard case .listEditor(let list) = session.state.modes.last, list.items == items else { throw stuck("\(field.name) differs") }
            press(.escape)
        case .values(let itemField):
            guard case .array(let items) = try JSONValue.parse(text) else { throw stuck("\(field.name) is not a list") }
            press(.enter)
            for item in items {
                press(.char("a"))
                try set(itemField, CampaignFormat.text(of: item, shape: itemField.shape))
                press(.char("w"))
            }
            press(.escape)
        case .object(let fields):
            guard case .object(let pairs) = try JSONValue.parse(text) else { throw stuck("\(field.name) is not an object") }
            press(.enter)
            let texts = CampaignFormat.texts(of: pairs, fields: fields)
            for part in fields { if let t = texts[part.name] { try set(part, t) } }
            press(.char("w"))
        case .whole:
            switch field.pick {
            case .flag:
                press(.enter)
                if text == "false" { press(.enter) }
            case .some:
                press(.enter)
                if form?.editing != nil {
                    // Nothing to pick from yet (the snapshot audience a Save audience creates): typed.
                    press(.ctrl("u"))
                    session.type(text)
                    press(.ctrl("s"))
                } else {
                    guard case .menu(let menu) = session.state.modes.last, menu.items.contains(where: { $0.value == .text(text) }) else {
                        throw stuck("the picker of \(field.name) does not offer '\(text)'")
                    }
                    session.type(text)
                    press(.enter)
                }
            case nil:
                try type(field.name, text)
            }
        }
        guard let row = form?.row(field.name), row.text == text || (try? JSONValue.parse(row.text)) == (try? JSONValue.parse(text))
        else { throw stuck("\(field.name) is '\(form?.row(field.name)?.text ?? "?")', not '\(text)'") }
    }

    /// Types `text` into the row named `name` as text.
    func type(_ name: String, _ text: String) throws {
        try selectRow(name)
        press(.char("e"), .ctrl("u"))
        session.type(text)
        press(.ctrl("s"))
    }

    func selectRow(_ name: String) throws {
        guard let form, let index = form.rows.firstIndex(where: { $0.name == name }) else { throw stuck("no field \(name)") }
        for _ in 0..<form.rows.count { press(.char("k")) }
        for _ in 0..<index { press(.char("j")) }
    }

    /// `campaign` with the designer's node ids replaced by the example's.
    static func renamed(_ campaign: Campaign, _ ids: [NodeID: NodeID]) -> Campaign {
        let back = Dictionary(ids.map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        var campaign = campaign
        campaign.nodes = campaign.nodes.map { node in
            var node = node
            node.id = back[node.id] ?? node.id
            return node
        }
        campaign.edges = campaign.edges.map { edge in
            Edge(from: back[edge.from] ?? edge.from, port: edge.port, to: back[edge.to] ?? edge.to, toPort: edge.toPort)
        }
        return campaign
    }
}
