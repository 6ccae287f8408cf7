import HeraldCore
import HeraldStore

/// A message node rendered for one recipient, opened from its form with p: each field as it
/// would be sent, the tags with no value and no default, and an SMS text's parts.
enum PreviewScreen {
    static let commands: [Command] = [
        Command(
            id: "preview.close", title: "close", help: "Close the preview", group: "Preview", keys: [.escape, .char("q"), .enter],
            keyLabel: "esc", scope: .preview, inKeyBar: true,
            perform: { state in
                state.modes.removeLast()
                return []
            }),
        Command(
            id: "preview.other", title: "other recipient", help: "Preview for another profile", group: "Preview", keys: [.char("p")],
            keyLabel: "p", scope: .preview, inKeyBar: true,
            perform: { state in
                state.modes.removeLast()
                return start(&state)
            }),
    ]

    /// Asks for the profile to preview the form's message for.
    static func start(_ state: inout AppState) -> [Effect] {
        guard case .nodeForm(let form) = state.modes.last else { return [] }
        guard case .success = NodeFormScreen.current(form).node() else {
            state.status = "preview: the values do not make a node yet"
            return []
        }
        state.modes.append(
            .prompt(
                Prompt(
                    purpose: .previewProfile,
                    title: "Preview for the profile with key"
                        + (state.lastPreviewProfile.isEmpty ? "" : " (Enter: \(state.lastPreviewProfile) again)"))))
        return []
    }

    /// The entity of the population reaching the form's node, when it is not the profile's.
    static func rowEntity(_ state: AppState) -> String? {
        guard let form = state.modes.compactMap({ if case .nodeForm(let f) = $0 { f } else { nil } }).last,
            let canvas = state.canvas, let context = canvas.context
        else { return nil }
        let audiences = Dictionary(context.audiences.map { ($0.name, $0.entity) }, uniquingKeysWith: { a, _ in a })
        let entities = canvas.draft.inboundEntities(catalog: context.catalog, audiences: audiences)
        let arriving = entities[form.id] ?? form.after.flatMap { entities[$0.node] }
        return arriving == context.catalog.profileEntity ? nil : arriving
    }

    /// Renders the form's message for `profile` (and `entity`), over the draft as it would be.
    static func request(_ state: inout AppState, profile: String, entity: String?) -> [Effect] {
        guard let index = state.modes.lastIndex(where: { if case .nodeForm = $0 { true } else { false } }),
            case .nodeForm(let form) = state.modes[index], case .success(let node) = NodeFormScreen.current(form).node(),
            var campaign = state.canvas?.draft
        else { return [] }
        if form.adding { try? campaign.add(node, after: form.after) } else { try? campaign.replace(form.id, with: node) }
        state.lastRequest += 1
        state.lastPreviewProfile = profile
        let recipient = "profile \(profile)" + (entity.map { ", row \($0)" } ?? "")
        state.modes.append(.preview(MessagePreview(request: state.lastRequest, recipient: recipient)))
        return [.previewMessage(request: state.lastRequest, campaign: campaign, node: node.id, profile: profile, entity: entity)]
    }

    static func reduce(_ state: inout AppState, _ action: Action) -> [Effect]? {
        guard case .messagePreviewed(let request, let result) = action else { return nil }
        guard case .preview(var preview) = state.modes.last, preview.request == request else { return [] }
        preview.result = result
        state.modes[state.modes.count - 1] = .preview(preview)
        return []
    }

    static func lines(_ preview: MessagePreview, width: Int) -> [(String, StyleRole)] {
        guard let result = preview.result else { return [("rendering…", .dim)] }
        switch result {
        case .failure(let failure):
            return DisplayWidth.wrap(failure.message, to: width).map { ($0, .error) }
        case .success(let message):
            var lines: [(String, StyleRole)] = []
            for field in message.fields {
                lines.append((field.name, .header))
                for line in field.text.split(separator: "\n", omittingEmptySubsequences: false) {
                    lines += DisplayWidth.wrap(String(line), to: width - 2).map { ("  " + $0, .dialog) }
                }
                if let segments = field.segments { lines.append(("  (\(segments))", .dim)) }
            }
            if !message.missing.isEmpty {
                lines.append(("", .dialog))
                lines += DisplayWidth.wrap(
                    "No value and no default for \(message.missing.joined(separator: ", ")): this message would not be sent. Declare defaults in the node.",
                    to: width
                ).map { ($0, .error) }
            }
            return lines
        }
    }

    static func render(_ preview: MessagePreview, into grid: inout CellGrid, glyphs: GlyphSet) {
        let width = Dialog.width(grid) - 4
        let lines = lines(preview, width: width)
        let box = Dialog.draw(&grid, lines: lines.count, title: " Preview for \(preview.recipient) ", glyphs: glyphs)
        for (i, line) in lines.prefix(box.height - 4).enumerated() {
            grid.put(DisplayWidth.truncate(line.0, to: width), x: box.x + 2, y: box.y + 2 + i, role: line.1)
        }
    }
}
