public import Foundation
import GRDB
public import HeraldCore
import HeraldStore

/// How a preview's errors name the profile and the related row: the command line's flags, or
/// the interface's own words.
public struct PreviewWords: Sendable {
    public var profile: String
    public var entity: String
    /// How the related row is given, after "give the key of one of its rows".
    public var entityHow: String

    public static let commandLine = PreviewWords(profile: "--profile", entity: "--entity", entityHow: " with --entity")
    public static let interface = PreviewWords(profile: "profile", entity: "related row", entityHow: " when asked for it")
}

/// Rendering a message node's templates for one recipient, from the store's data: what the
/// designer's preview and `herald campaign preview` show.
extension AudienceService {
    /// The message `node` of `campaign` rendered for the profile `profileKey` and, for a
    /// population of another entity (bookings), its row `entityKey`, which must belong to that
    /// profile.
    public func preview(
        _ campaign: Campaign, node id: NodeID, profile profileKey: String, entity entityKey: String?,
        words: PreviewWords = .commandLine
    ) throws
        -> RenderedMessage
    {
        guard let node = campaign.node(id) else {
            throw HeraldError(
                .notFound, "node: no node '\(id)' in '\(campaign.name)'\(Names.suggestion(for: id.name, in: campaign.nodes.map(\.id.name)))"
            )
        }
        guard case .message(let channel, let settings) = node.config else {
            throw HeraldError(
                .invalidInput, "node: '\(id)' is not a message node (it is \(node.kind.title)); only messages have content to preview")
        }
        let catalog = try store.catalog()
        let audiences = Dictionary(try store.listAudiences().map { ($0.name, $0.entity) }, uniquingKeysWith: { a, _ in a })
        guard let profileName = catalog.profileEntity, let profile = catalog.entity(profileName) else {
            throw HeraldError(.invalidInput, "the catalog names no profile entity (herald catalog profile ENTITY)")
        }
        guard let arriving = campaign.inboundEntities(catalog: catalog, audiences: audiences)[id], let target = catalog.entity(arriving)
        else {
            throw HeraldError(.validation, "node: the population reaching '\(id)' has no known entity; validate the campaign first")
        }
        let tags = settings.content.flatMap { CampaignValidator.templateTags($0.1).map(\.tag) } + settings.defaults.map(\.0)
        func paths(_ root: String) -> [String] {
            var seen = Set<String>()
            var result: [String] = []
            for tag in tags where tag.hasPrefix(root + ".") {
                let path = String(tag.dropFirst(root.count + 1))
                if seen.insert(path).inserted { result.append(path) }
            }
            return result
        }

        let targetKey: String
        if settings.messagePer == .related, let relatedLink = settings.related.flatMap({ target.link($0.link) }),
            let rows = catalog.entity(relatedLink.target)
        {
            // One message per related row: the row must be one of the profile's.
            guard let entityKey else {
                throw HeraldError(
                    .invalidInput,
                    "\(words.entity): '\(id)' sends one message per \(rows.name) row; give the key of one of its rows\(words.entityHow)")
            }
            let owner = try values(of: rows, key: entityKey, paths: [relatedLink.targetColumn], what: words.entity)
            let belongsTo = owner[relatedLink.targetColumn] ?? nil
            guard belongsTo == profileKey else {
                throw HeraldError(
                    .invalidInput,
                    "\(words.entity): \(rows.name) \(entityKey) belongs to \(profileName) \(belongsTo ?? "(none)"), not to \(profileKey)")
            }
            var values = TemplateValues()
            values.profile = try self.values(of: profile, key: profileKey, paths: paths("profile"), what: words.profile)
            values.target = try self.values(of: rows, key: entityKey, paths: paths("target"), what: words.entity)
            values.added = try added(campaign, before: id, entity: target, key: profileKey, catalog: catalog, audiences: audiences)
            return try MessageTemplates.render(settings, channel: channel, values: values)
        }
        if arriving == profileName {
            if let entityKey {
                throw HeraldError(
                    .invalidInput,
                    "\(words.entity): the population reaching '\(id)' is \(arriving) itself; give the \(words.profile) only (not \(entityKey))"
                )
            }
            targetKey = profileKey
        } else {
            guard let entityKey else {
                throw HeraldError(
                    .invalidInput,
                    "\(words.entity): the population reaching '\(id)' is \(arriving); give the key of one of its rows\(words.entityHow)"
                )
            }
            guard let link = catalog.linkToProfile(from: arriving) else {
                throw HeraldError(.validation, "\(arriving) has no link to \(profileName); its messages have no recipient")
            }
            let owner = try values(of: target, key: entityKey, paths: [link.name + "." + profile.primaryKey], what: words.entity)
            let belongsTo = owner[link.name + "." + profile.primaryKey] ?? nil
            guard belongsTo == profileKey else {
                throw HeraldError(
                    .invalidInput,
                    "\(words.entity): \(arriving) \(entityKey) belongs to \(profileName) \(belongsTo ?? "(none)"), not to \(profileKey)")
            }
            targetKey = entityKey
        }
        var values = TemplateValues()
        values.profile = try self.values(of: profile, key: profileKey, paths: paths("profile"), what: words.profile)
        values.target = try self.values(
            of: target, key: targetKey, paths: paths("target"), what: arriving == profileName ? words.profile : words.entity)
        values.added = try added(campaign, before: id, entity: target, key: targetKey, catalog: catalog, audiences: audiences)
        return try MessageTemplates.render(settings, channel: channel, values: values)
    }

    /// The row of `entity` with `key`: each of `paths` (through N-1 links) as text, nil when empty.
    func values(of entity: Entity, key: String, paths: [String], what: String) throws -> [String: String?] {
        let keyValue: Literal =
            entity.keyType == .integer
            ? try Int64(key).map(Literal.integer)
                ?? { throw HeraldError(.invalidInput, "\(what): \(entity.name) keys are whole numbers, found '\(key)'") }()
            : .text(key)
        let source = AudienceSource(entity: entity.name, rule: .compare(AttributePath(entity.primaryKey), .equal, keyValue))
        let columns = [entity.primaryKey] + paths
        let (_, rows) = try sample(source, columns: columns, limit: 1)
        guard let row = rows.first else { throw HeraldError(.notFound, "\(what): no \(entity.name) row with key \(key)") }
        var values: [String: String?] = [:]
        for (path, value) in zip(paths, row.dropFirst()) { values[path] = value.isEmpty ? nil : value }
        return values
    }

    /// What the Enrichment nodes before `id` add to the row `key` of `entity`: each one on the
    /// way back whose population is that entity.
    func added(
        _ campaign: Campaign, before id: NodeID, entity: Entity, key: String, catalog: Catalog, audiences: [String: String]
    ) throws -> [String: AddedValue] {
        let fields = Self.addedFields(campaign, before: id, entity: entity, catalog: catalog, audiences: audiences)
        guard !fields.isEmpty else { return [:] }
        let compiler = try compiler(variables: campaign.variableBindings)
        return try readOnly(cancellation: nil, timeLimit: 30, catalog: catalog) { db in
            try Self.addedValues(db, fields: fields, entity: entity, keys: [key], compiler: compiler)[key] ?? [:]
        }
    }

    /// The Enrichment fields the nodes before `id` add to rows of `entity`.
    static func addedFields(
        _ campaign: Campaign, before id: NodeID, entity: Entity, catalog: Catalog, audiences: [String: String]
    )
        -> [EnrichmentField]
    {
        let entities = campaign.inboundEntities(catalog: catalog, audiences: audiences)
        var fields: [EnrichmentField] = []
        var current = id
        var seen: Set<NodeID> = []
        while let edge = campaign.inbound(current).first, seen.insert(edge.from).inserted {
            current = edge.from
            if case .enrich(let added) = campaign.node(current)?.config, entities[current] == entity.name { fields = added + fields }
        }
        return fields
    }

    /// `fields` computed for each of `keys` of `entity`, set-wise: one statement for them all.
    static func addedValues(
        _ db: Database, fields: [EnrichmentField], entity: Entity, keys: [String], compiler: RuleCompiler
    ) throws
        -> [String: [String: AddedValue]]
    {
        guard !fields.isEmpty, !keys.isEmpty else { return [:] }
        // The enrichment reads its population from a table of keys: here, the given keys.
        let population = "herald_given_keys"
        var compiled = try compiler.enrichment(population: population, entity: entity.name, fields: fields)
        compiled.sql = "WITH \"\(population)\"(key) AS (VALUES \(keys.map { _ in "(?)" }.joined(separator: ","))) " + compiled.sql
        compiled.arguments.insert(contentsOf: keys.map { keyArgument($0, entity: entity) }, at: 0)
        var result: [String: [String: AddedValue]] = [:]
        // Columns by position (the key, then each field in order): faster than by name.
        for row in try Row.fetchAll(db, sql: compiled.sql, arguments: compiled.arguments.statementArguments) {
            let key: DatabaseValue = row[0]
            var added: [String: AddedValue] = [:]
            for (i, field) in fields.enumerated() {
                let value: DatabaseValue = row[i + 1]
                switch field.value {
                case .value:
                    added[field.name] = .value(value.isNull ? nil : value.displayText)
                case .rows:
                    let text = value.isNull ? "[]" : value.displayText
                    guard case .array(let items) = try JSONValue.parse(text) else { continue }
                    added[field.name] = .rows(
                        items.map { item in
                            guard case .object(let pairs) = item else { return [:] }
                            return Dictionary(
                                pairs.map { name, v -> (String, String?) in
                                    switch v {
                                    case .null: (name, nil)
                                    case .string(let s): (name, s)
                                    default: (name, v.compact())
                                    }
                                }, uniquingKeysWith: { a, _ in a })
                        })
                }
            }
            result[key.displayText] = added
        }
        return result
    }

    /// A key given as text, bound with the entity key's type.
    static func keyArgument(_ key: String, entity: Entity) -> SQLValue {
        entity.keyType == .integer ? Int64(key).map(SQLValue.integer) ?? .text(key) : .text(key)
    }

    /// For each of `keys` of `entity`, each of `paths` (through N-1 links) as text, nil when
    /// empty; set-wise, one statement for them all.
    static func rowValues(
        _ db: Database, entity: Entity, keys: [String], paths: [String], compiler: RuleCompiler
    ) throws
        -> [String: [String: String?]]
    {
        guard !keys.isEmpty else { return [:] }
        let population = "herald_given_keys"
        var compiled = try compiler.selectKeys(
            entity: entity.name, rule: .all, population: population,
            columns: paths.map { AttributePath($0) } + [AttributePath(entity.primaryKey)])
        compiled.sql = "WITH \"\(population)\"(key) AS (VALUES \(keys.map { _ in "(?)" }.joined(separator: ","))) " + compiled.sql
        compiled.arguments.insert(contentsOf: keys.map { keyArgument($0, entity: entity) }, at: 0)
        var result: [String: [String: String?]] = [:]
        // Columns by position (the key, then c1, c2…): faster than by name.
        let rows = try Row.fetchCursor(db, sql: compiled.sql, arguments: compiled.arguments.statementArguments)
        while let row = try rows.next() {
            let key: DatabaseValue = row[0]
            var values: [String: String?] = Dictionary(minimumCapacity: paths.count)
            for (i, path) in paths.enumerated() {
                let text = (row[i + 1] as DatabaseValue).displayText
                values[path] = text.isEmpty ? nil : text
            }
            result[key.displayText] = values
        }
        return result
    }
}
