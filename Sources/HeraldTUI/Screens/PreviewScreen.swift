import HeraldCore
import HeraldEngine
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
            id: "preview.proof", title: "send proof", help: "Send this message to a test address through the configured provider",
            group: "Preview", keys: [.char("s")], keyLabel: "s", scope: .preview, inKeyBar: true,
            perform: { state in
                guard case .preview(let preview) = state.modes.last, case .success(let message)? = preview.result else {
                    state.status = "proof: the message is not rendered yet"
                    return []
                }
                guard message.missing.isEmpty else {
                    state.status =
                        "proof: tags have no value (\(message.missing.joined(separator: ", "))); a run would not send this message"
                    return []
                }
                state.modes.append(
                    .prompt(
                        Prompt(
                            purpose: .proofAddress,
                            title: "Send a proof to: an e-mail address, a phone number or a push token"
                                + (state.lastProofAddress.isEmpty
                                    ? "" : " (Enter: \(state.lastProofAddress))"))))
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
                    title: "Preview for the profile: a name, an address or a key"
                        + (state.lastPreviewProfile.isEmpty ? "" : " (Enter: \(state.lastPreviewProfile) again)"))))
        return []
    }

    /// The entity whose row a preview needs besides the profile: the population's when it is not
    /// the profile's, or the related rows' of a message per related row.
    static func rowEntity(_ state: AppState) -> String? {
        guard let form = state.modes.compactMap({ if case .nodeForm(let f) = $0 { f } else { nil } }).last,
            let canvas = state.canvas, let context = canvas.context
        else { return nil }
        let audiences = Dictionary(context.audiences.map { ($0.name, $0.entity) }, uniquingKeysWith: { a, _ in a })
        let entities = canvas.draft.inboundEntities(catalog: context.catalog, audiences: audiences)
        let arriving = entities[form.id] ?? form.after.flatMap { entities[$0.node] }
        if case .success(let node) = form.node(), case .message(_, let settings) = node.config, settings.messagePer == .related,
            let population = arriving.flatMap(context.catalog.entity), let link = settings.related.flatMap({ population.link($0.link) })
        {
            return link.target
        }
        return arriving == context.catalog.profileEntity ? nil : arriving
    }

    /// The draft with the open form's node as it would be, and that node's id.
    static func formCampaign(_ state: AppState) -> (Campaign, NodeID)? {
        guard let index = state.modes.lastIndex(where: { if case .nodeForm = $0 { true } else { false } }),
            case .nodeForm(let form) = state.modes[index], case .success(let node) = NodeFormScreen.current(form).node(),
            var campaign = state.canvas?.draft
        else { return nil }
        if form.adding { try? campaign.add(node, after: form.after) } else { try? campaign.replace(form.id, with: node) }
        return (campaign, node.id)
    }

    /// Renders the form's message for `profile` (and `entity`), over the draft as it would be.
    static func request(_ state: inout AppState, profile: String, entity: String?) -> [Effect] {
        guard let (campaign, node) = formCampaign(state) else { return [] }
        state.lastRequest += 1
        state.lastPreviewProfile = profile
        let recipient = "profile \(profile)" + (entity.map { ", row \($0)" } ?? "")
        var preview = MessagePreview(request: state.lastRequest, recipient: recipient)
        preview.profile = profile
        preview.entity = entity
        state.modes.append(.preview(preview))
        return [.previewMessage(request: state.lastRequest, campaign: campaign, node: node, profile: profile, entity: entity)]
    }

    /// The proof's address given: sends the previewed message there.
    static func sendProof(_ state: inout AppState, to address: String) -> [Effect] {
        guard let preview = state.modes.reversed().lazy.compactMap({ if case .preview(let p) = $0 { p } else { nil } }).first,
            let (campaign, node) = formCampaign(state)
        else { return [] }
        state.lastProofAddress = address
        state.status = "sending a proof…"
        return [.sendProof(campaign: campaign, node: node, profile: preview.profile, entity: preview.entity, address: address)]
    }

    /// The matches of a recipient search, as a menu to pick from; none or a failure stays in the
    /// prompt (for profiles) or the status line (for a profile's rows).
    static func found(
        _ state: inout AppState, request: Int, _ query: RecipientQuery, _ result: Result<[AudienceService.Match], CountFailure>
    ) -> [Effect] {
        guard request == state.lastRequest else { return [] }
        var matches: [AudienceService.Match] = []
        var problem: String?
        switch result {
        case .success(let found): matches = found
        case .failure(let failure): problem = failure.message
        }
        if matches.isEmpty && problem == nil {
            problem =
                switch query {
                case .profiles(let text): "no profile's name, address or key matches '\(text)'"
                case .rows(let entity, let profile): "profile \(profile) has no \(entity) to preview the message for"
                }
        }
        if case .prompt(var prompt) = state.modes.last, case .previewProfile = prompt.purpose {
            prompt.detail = []
            if let problem {
                prompt.error = problem
                state.modes[state.modes.count - 1] = .prompt(prompt)
                return []
            }
            state.modes.removeLast()
        } else if let problem {
            state.status = problem
            return []
        }
        let title =
            switch query {
            case .profiles(let text): "Profiles matching '\(text)'"
            case .rows(let entity, let profile): "The \(entity) of profile \(profile)"
            }
        let items = matches.map { MenuItem(title: "\($0.key)  \($0.title)", detail: $0.detail, value: .text($0.key)) }
        state.modes.append(.menu(Menu(purpose: .previewRecipient(query), title: title, items: items)))
        return []
    }

    /// A recipient picked: a profile (then, for a population of another entity, one of its
    /// rows), or that row.
    static func picked(_ key: String, _ query: RecipientQuery, _ state: inout AppState) -> [Effect] {
        switch query {
        case .profiles:
            if let entity = rowEntity(state) {
                state.lastRequest += 1
                return [.searchRecipients(request: state.lastRequest, .rows(entity: entity, profile: key))]
            }
            return request(&state, profile: key, entity: nil)
        case .rows(_, let profile):
            return request(&state, profile: profile, entity: key)
        }
    }

    static func reduce(_ state: inout AppState, _ action: Action) -> [Effect]? {
        if case .recipientsFound(let request, let query, let result) = action { return found(&state, request: request, query, result) }
        if case .proofSent(let result) = action {
            switch result {
            case .success(let said): state.status = said
            case .failure(let failure): state.status = "proof not sent: \(failure.message)"
            }
            return []
        }
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
