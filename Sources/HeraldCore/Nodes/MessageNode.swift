/// Email, SMS, push, direct mail: one message per profile (or per row) of the population.
public struct MessageNode: NodeDefinition {
    public let channel: Channel
    public let settings: ChannelSettings

    public var sendsOn: Channel? { channel }

    public init(channel: Channel, settings: ChannelSettings) {
        self.channel = channel
        self.settings = settings
    }

    public var summary: String {
        let title = settings.field("subject") ?? settings.field("title") ?? settings.field("text") ?? settings.field("columns") ?? ""
        return "\(settings.category.rawValue), per \(settings.messagePer.rawValue): \(title)"
    }

    public func check(_ check: inout NodeCheck) {
        for field in channel.requiredFields where (settings.field(field) ?? "").trimmed.isEmpty {
            check.add(field, "the \(check.node.kind.title) content needs '\(field)'")
        }
        if let cap = settings.frequencyCap {
            if cap.maxMessages < 1 { check.add("frequencyCap.max", "must be at least 1, found \(cap.maxMessages)") }
            if cap.days < 1 { check.add("frequencyCap.days", "must be at least 1, found \(cap.days)") }
            if settings.category == .transactional {
                check.add("frequencyCap", "transactional messages ignore frequency caps; remove it or make the message marketing")
            }
        }
        if settings.sendWindow != nil && settings.category == .transactional {
            check.add("sendWindow", "transactional messages ignore send windows; remove it or make the message marketing")
        }
        let catalog = check.catalog
        if let dim = check.upstream {
            if catalog.profileEntity == nil {
                check.add(nil, "the catalog names no profile entity, so messages have no recipients (herald catalog profile ENTITY)")
            } else if dim != catalog.profileEntity && catalog.linkToProfile(from: dim) == nil {
                check.add(
                    nil,
                    "the population is '\(dim)', which has no link to the profile entity '\(catalog.profileEntity ?? "")'; messages need a recipient"
                )
            } else if settings.messagePer == .entity && dim == catalog.profileEntity {
                check.add("messagePer", "'entity' sends one message per row of a non-profile population; this one is '\(dim)'")
            }
        }
        // One message per related row: a one-to-many link of the profile population, and a rule
        // over its rows.
        var target = check.upstreamEntity
        switch (settings.messagePer, settings.related) {
        case (.related, nil):
            check.add("related", "'related' sends one message per related row: give related.link (a 1-N link such as bookings)")
        case (.related, let related?):
            if let dim = check.upstream, dim != catalog.profileEntity {
                check.add(
                    "messagePer",
                    "'related' follows a link of each profile; this population is '\(dim)' (change its dimension to profiles first)")
            } else if let entity = check.upstreamEntity {
                if let link = entity.link(related.link), link.cardinality == .oneToMany, let rows = catalog.entity(link.target) {
                    check.check(related.rule, on: rows, field: "related.where")
                    target = rows
                } else {
                    let links = entity.links.filter { $0.cardinality == .oneToMany }.map(\.name)
                    check.add(
                        "related.link",
                        "'\(related.link)' is not a one-to-many link of \(entity.name)\(Names.suggestion(for: related.link, in: links))")
                }
            }
        case (_, _?):
            check.add("related", "related rows need messagePer 'related'; remove related or set messagePer to related")
        default:
            break
        }
        guard let profile = catalog.profileEntity.flatMap(catalog.entity) else { return }
        if let problem = CampaignValidator.addressProblem(channel, profile: profile, channels: catalog.profileChannels) {
            check.add(nil, problem)
        }
        for (field, template) in settings.content {
            if let problem = MessageTemplates.syntaxProblem(template) {
                check.add(field, problem)
                continue
            }
            for problem in check.validator.templateProblems(template, profile: profile, target: target, added: check.added) {
                check.add(field, problem)
            }
        }
        // A default names a field the way a template does.
        for (tag, _) in settings.defaults {
            for problem in check.validator.templateProblems(
                "{{\(tag)}}", profile: profile, target: target, added: check.added)
            {
                check.add("defaults.\(tag)", problem)
            }
        }
    }
}
