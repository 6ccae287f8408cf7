import HeraldCore
import HeraldStore

/// A menu over the screen: type to filter, ↑/↓ to choose, Enter to pick, Esc to close.
enum MenuScreen {
    static let commands: [Command] = [
        Command(
            id: "menu.pick", title: "pick", help: "Pick the highlighted entry", group: "Menu", keys: [.enter], keyLabel: "enter",
            scope: .menu, inKeyBar: true, perform: { state in pick(&state) }),
        Command(
            id: "menu.close", title: "close", help: "Close the menu", group: "Menu", keys: [.escape, .ctrl("c")], keyLabel: "esc",
            scope: .menu, inKeyBar: true,
            perform: { state in
                if case .menu(let menu) = state.modes.last, case .theme(let previous) = menu.purpose { state.theme = previous }
                state.modes.removeLast()
                return []
            }),
        Command(
            id: "menu.down", title: "next", help: "Highlight the next entry", group: "Menu", keys: [.down, .ctrl("n")], keyLabel: "↓",
            scope: .menu, inKeyBar: true, perform: { state in move(&state, by: 1) }),
        Command(
            id: "menu.up", title: "previous", help: "Highlight the previous entry", group: "Menu", keys: [.up, .ctrl("p")],
            keyLabel: "↑", scope: .menu, inKeyBar: false, perform: { state in move(&state, by: -1) }),
        TextEntry.command(scope: .menu, group: "Menu"),
    ]

    static func move(_ state: inout AppState, by delta: Int) -> [Effect] {
        guard case .menu(var menu) = state.modes.last else { return [] }
        let count = menu.visible.count
        guard count > 0 else { return [] }
        menu.selection = (menu.selection + delta + count) % count
        state.modes[state.modes.count - 1] = .menu(menu)
        // The theme picker shows the highlighted theme on the whole screen at once.
        if case .theme = menu.purpose, case .theme(let name) = menu.visible[menu.selection].value { state.theme = name }
        return []
    }

    static func pick(_ state: inout AppState) -> [Effect] {
        guard case .menu(let menu) = state.modes.last else { return [] }
        let visible = menu.visible
        guard visible.indices.contains(menu.selection) else {
            state.status = "nothing matches '\(menu.filter.text)'"
            return []
        }
        let item = visible[menu.selection]
        state.modes.removeLast()
        switch (menu.purpose, item.value) {
        case (.previewRecipient(let query), .text(let key)):
            return PreviewScreen.picked(key, query, &state)
        case (.addAfterPort, .port(let source)):
            CanvasEditing.openKindMenu(&state, after: source)
        case (.addNode(let after), .kind(let kind)):
            guard let canvas = state.canvas else { return [] }
            state.modes.append(.nodeForm(NodeForm(newNode: canvas.draft.freshID(kind.rawValue), kind: kind, after: after)))
            return NodeFormScreen.update(&state) { _ in }
        case (.newCampaign, .example), (.newCampaign, .scratch):
            var template: Campaign?
            if case .example(let name) = item.value { template = CampaignListScreen.examples.first { $0.name == name } }
            state.modes.append(
                .prompt(
                    Prompt(
                        purpose: .newCampaign(template: template), title: "Name of the new campaign",
                        text: template.map { CampaignListScreen.freeName($0.name, in: state) } ?? "")))
        case (.settings, .setting(let setting)):
            return SettingsScreen.open(setting, &state)
        case (.timeZone, .zone(let zone)):
            return CanvasEditing.edit(&state, "set the time zone to \(zone)") { campaign in
                campaign.timeZone = zone
                return nil
            }
        case (.fieldValue, .text(let text)):
            return NodeFormScreen.picked(text, &state)
        case (.ruleAttribute, .attribute(let path, let type)):
            state.modes.append(.menu(RuleBuilderScreen.operatorMenu(path: path, type: type)))
        case (.ruleOperator(let path, let type), .ruleOperator(let op)):
            return RuleBuilderScreen.picked(operator: op, path: path, type: type, &state)
        case (.theme, .theme(let name)):
            state.theme = name
            state.status = "theme \(name) (for this session; herald --theme \(name) or HERALD_THEME=\(name) keeps it)"
        case (.help, .command(let id)):
            return HelpScreen.run(id, &state)
        case (.goToNode, .node(let id)):
            state.canvas?.selected = id
            state.canvas?.selectedPort = nil
            CanvasNavigation.ensureVisible(&state)
        case (.connect(let source), .node(let id)):
            if case .connect(var connect) = state.modes.last {
                connect.target = id
                connect.targetPort = nil
                state.modes[state.modes.count - 1] = .connect(connect)
            } else {
                state.modes.append(.connect(Connect(source: source, target: id, targetPort: nil)))
            }
            return ConnectScreen.finish(&state)
        default:
            break
        }
        return []
    }

    /// A menu of the draft's nodes, by label, kind and id.
    static func nodes(_ state: AppState, purpose: MenuPurpose, title: String, except: NodeID? = nil) -> Menu {
        let nodes = state.canvas?.draft.nodes.filter { $0.id != except } ?? []
        return Menu(
            purpose: purpose, title: title,
            items: nodes.map { MenuItem(title: $0.label, detail: "\($0.kind.title) · \($0.id)", value: .node($0.id)) })
    }

    static func render(_ menu: Menu, into grid: inout CellGrid, glyphs: GlyphSet) {
        let visible = menu.visible
        let width = Dialog.width(grid)
        // As tall as the whole list, so filtering does not resize the box.
        let box = Dialog.draw(&grid, lines: max(1, menu.items.count), title: " \(menu.title) ", glyphs: glyphs)
        let titleWidth = min((menu.items.map { DisplayWidth.of($0.title) }.max() ?? 10) + 2, (width - 4) / 2)
        grid.put(
            "filter: ", x: box.x + 2, y: box.y + 1, role: .dim)
        TextFieldView.draw(menu.filter, into: &grid, x: box.x + 10, y: box.y + 1, width: width - 12, height: 1)
        let rows = max(0, box.height - 4)
        let first = max(0, menu.selection - rows + 1)
        if visible.isEmpty { grid.put("nothing matches", x: box.x + 2, y: box.y + 3, role: .dim) }
        for (i, item) in visible.enumerated().dropFirst(first).prefix(rows) {
            let y = box.y + 3 + i - first
            let title = DisplayWidth.truncate(item.title, to: titleWidth - 2, ellipsis: glyphs.ellipsis)
            let text = DisplayWidth.truncate(
                DisplayWidth.pad(title, to: titleWidth) + item.detail, to: width - 4, ellipsis: glyphs.ellipsis)
            let selected = i == menu.selection
            grid.put(DisplayWidth.pad(text, to: width - 4), x: box.x + 2, y: y, role: selected ? .selection : .dialog)
        }
    }
}
