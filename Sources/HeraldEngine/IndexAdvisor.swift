public import Foundation
import GRDB
public import HeraldCore
public import HeraldStore

/// Indexes that would serve the one-to-many rules the store's saved audiences and campaigns
/// use: the link's column first, then the columns the rules filter and aggregate on, so SQLite
/// can answer from the index alone. Herald's own indexes are named `herald_idx_…`.
public struct IndexAdvisor: Sendable {
    public let service: AudienceService

    public init(service: AudienceService) { self.service = service }

    public static let prefix = "herald_idx_"

    /// Where a saved rule comes from.
    public enum RuleOrigin: Hashable, Sendable, CustomStringConvertible {
        case audience(String)
        case node(campaign: String, node: NodeID)
        /// A rule named by whoever asks (a benchmark's case).
        case named(String)

        public var description: String {
            switch self {
            case .audience(let name): "audience '\(name)'"
            case .named(let name): "rule '\(name)'"
            case .node(let campaign, let node): "campaign '\(campaign)', node '\(node)'"
            }
        }

        /// The origins in one line, each campaign named once with its nodes:
        /// `campaign 'Summer sale' (nodes 'customers', 'cancellers'), audience 'VIP'`.
        public static func describe(_ origins: [RuleOrigin]) -> String {
            // Audiences and benchmark rules as they come; a campaign where its first node came.
            var groups: [(campaign: String?, origin: RuleOrigin, nodes: [NodeID])] = []
            for origin in origins {
                if case .node(let campaign, let node) = origin {
                    if let i = groups.firstIndex(where: { $0.campaign == campaign }) {
                        groups[i].nodes.append(node)
                    } else {
                        groups.append((campaign, origin, [node]))
                    }
                } else {
                    groups.append((nil, origin, []))
                }
            }
            return groups.map { group in
                guard let campaign = group.campaign else { return group.origin.description }
                let nodes = group.nodes.map { "'\($0)'" }.joined(separator: ", ")
                return "campaign '\(campaign)' (node\(group.nodes.count == 1 ? "" : "s") \(nodes))"
            }.joined(separator: ", ")
        }
    }

    /// One index Herald advises (or created), with the saved rules it serves.
    public struct Advice: Sendable, Equatable {
        public var table: String
        public var columns: [String]
        /// Where the rules come from.
        public var usedBy: [RuleOrigin]
        /// An index of Herald's that already exists with these columns.
        public var exists: Bool

        public var name: String { IndexAdvisor.prefix + table + "_" + columns.joined(separator: "_") }
        public var sql: String {
            "CREATE INDEX \(name.quotedDatabaseIdentifier) ON \(table.quotedDatabaseIdentifier)(\(columns.map(\.quotedDatabaseIdentifier).joined(separator: ", ")))"
        }
    }

    /// A rule, the entity it is over, and where it comes from.
    struct SavedRule {
        var entity: String
        var rule: Rule
        var origin: RuleOrigin
    }

    /// The rules of live saved audiences and of every campaign's Build audience nodes.
    func savedRules() throws -> [SavedRule] {
        let store = service.store
        var rules: [SavedRule] = []
        for audience in try store.listAudiences() where !audience.snapshot {
            if let rule = try? Rule(parsing: audience.rule) {
                rules.append(SavedRule(entity: audience.entity, rule: rule, origin: .audience(audience.name)))
            }
        }
        for summary in try store.listCampaigns(includeArchived: false) {
            let campaign = try store.loadCampaign(id: summary.id).campaign
            for node in campaign.nodes {
                // Rules over a named entity (a Split's run over whatever arrives).
                for rule in node.definition.rules {
                    guard let entity = rule.entity else { continue }
                    rules.append(SavedRule(entity: entity, rule: rule.rule, origin: .node(campaign: campaign.name, node: node.id)))
                }
            }
        }
        return rules
    }

    /// Every advised index for the saved audiences' and campaigns' rules.
    public func advice() throws -> [Advice] {
        try advice(for: try savedRules())
    }

    /// The advice for given rules (entity, rule, a name for where it comes from).
    public func advice(for rules: [(entity: String, rule: Rule, origin: RuleOrigin)]) throws -> [Advice] {
        try advice(for: rules.map { SavedRule(entity: $0.entity, rule: $0.rule, origin: $0.origin) })
    }

    /// One advice per (table, columns), merging the rules that want it, left out when an index
    /// (any, not only Herald's) already starts with the same columns.
    func advice(for rules: [SavedRule]) throws -> [Advice] {
        let catalog = try service.store.catalog()
        struct Key: Hashable {
            var table: String
            var columns: [String]
        }
        var wanted: [Key: Advice] = [:]
        var order: [Key] = []
        for saved in rules {
            guard let entity = catalog.entity(saved.entity) else { continue }
            for (table, column, extra) in AudienceService.linkUsages(saved.rule, entity: entity, catalog: catalog) {
                let columns = [column] + extra.filter { $0 != column }
                let key = Key(table: table, columns: columns)
                if wanted[key] == nil {
                    wanted[key] = Advice(table: table, columns: columns, usedBy: [], exists: false)
                    order.append(key)
                }
                if !(wanted[key]!.usedBy.contains(saved.origin)) { wanted[key]!.usedBy.append(saved.origin) }
            }
        }
        // An index whose columns begin another advised index on the same table is served by that
        // one: merge it into the longest.
        for key in order {
            guard let short = wanted[key] else { continue }
            if let longer = order.compactMap({ wanted[$0] }).first(where: { other in
                other.table == short.table && other.columns.count > short.columns.count
                    && Array(other.columns.prefix(short.columns.count)) == short.columns
            }) {
                let longKey = Key(table: longer.table, columns: longer.columns)
                for origin in short.usedBy where !(wanted[longKey]!.usedBy.contains(origin)) { wanted[longKey]!.usedBy.append(origin) }
                wanted[key] = nil
            }
        }
        let existing = try service.store.indexes()
        var result: [Advice] = []
        for key in order {
            guard var advice = wanted[key] else { continue }
            let covered = existing.contains { index in
                index.table == advice.table && index.columns.count >= advice.columns.count
                    && Array(index.columns.prefix(advice.columns.count)) == advice.columns
            }
            advice.exists = existing.contains { $0.name == advice.name }
            if covered && !advice.exists { continue }
            result.append(advice)
        }
        return result
    }

    /// Seconds to count every saved rule an advice serves (the cache is bypassed).
    public func timeRules(of advice: Advice) throws -> Double {
        var uncached = service
        uncached.cachesResults = false
        let rules = try savedRules().filter { advice.usedBy.contains($0.origin) }
        let started = DispatchTime.now()
        for saved in rules { _ = try uncached.count(AudienceSource(entity: saved.entity, rule: saved.rule)) }
        return Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
    }

    /// Creates the advised indexes that do not exist yet, each in its own write transaction.
    /// - Parameter progress: called before each index is built.
    public func apply(_ advice: [Advice], progress: (Advice) -> Void = { _ in }) throws {
        let writable = try service.store.writable()
        for item in advice where !item.exists {
            progress(item)
            try writable.write { db in try db.execute(sql: item.sql) }
        }
    }

    /// Drops every index Herald created (`herald_idx_…`); returns their names.
    public func dropAll() throws -> [String] {
        let names = try service.store.indexes().map(\.name).filter { $0.hasPrefix(Self.prefix) }
        let writable = try service.store.writable()
        try writable.write { db in
            for name in Set(names) { try db.execute(sql: "DROP INDEX IF EXISTS \(name.quotedDatabaseIdentifier)") }
        }
        return Array(Set(names)).sorted()
    }
}
