import Foundation

/// Renaming a link as a refactoring tool would: every rule, template field and Change
/// dimension node that follows the link from its entity is rewritten to the new name, and
/// nothing else (another entity's link of the same name is left alone).
///
/// Paths are resolved against the catalog as it was *before* the rename, hop by hop, so a
/// segment is renamed only where it really is that link.
public struct LinkRename: Sendable {
    public var entity: String
    public var oldName: String
    public var newName: String
    /// The catalog before the rename.
    public var catalog: Catalog

    public init(entity: String, oldName: String, newName: String, catalog: Catalog) {
        self.entity = entity
        self.oldName = oldName
        self.newName = newName
        self.catalog = catalog
    }

    /// `segments` (links from `base`, then possibly an attribute) with the link renamed where
    /// it is followed from the renamed entity; the entity reached after the links.
    func rename(links segments: [String], from base: String, keepLast: Bool) -> (segments: [String], entity: String?) {
        var current: String? = base
        var out = segments
        let linkCount = keepLast ? segments.count - 1 : segments.count
        for i in 0..<max(linkCount, 0) {
            guard let here = current, let e = catalog.entity(here), let link = e.link(segments[i]) else {
                current = nil
                break
            }
            if here == entity && segments[i] == oldName { out[i] = newName }
            current = link.target
        }
        return (out, current)
    }

    func rename(_ path: AttributePath, from base: String) -> AttributePath {
        AttributePath(rename(links: path.segments, from: base, keepLast: true).segments)
    }

    /// The rule over `base` with the link renamed.
    public func rename(_ rule: Rule, on base: String) -> Rule {
        switch rule {
        case .all, .inAudience: return rule
        case .and(let rules): return .and(rules.map { rename($0, on: base) })
        case .or(let rules): return .or(rules.map { rename($0, on: base) })
        case .not(let inner): return .not(rename(inner, on: base))
        case .compare(let p, let op, let v): return .compare(rename(p, from: base), op, v)
        case .inList(let p, let values, let negated): return .inList(rename(p, from: base), values, negated: negated)
        case .isEmpty(let p, let negated): return .isEmpty(rename(p, from: base), negated: negated)
        case .text(let p, let match, let v, let negated): return .text(rename(p, from: base), match, v, negated: negated)
        case .between(let p, let low, let high, let negated): return .between(rename(p, from: base), low, high, negated: negated)
        case .exists(let link, let inner, let negated):
            let (renamed, target) = rename(links: link, from: base, keepLast: false)
            return .exists(link: renamed, target.map { rename(inner, on: $0) } ?? inner, negated: negated)
        case .aggregate(let aggregate, let op, let value):
            return .aggregate(rename(aggregate, on: base), op, value)
        }
    }

    func rename(_ aggregate: Aggregate, on base: String) -> Aggregate {
        var aggregate = aggregate
        let (renamed, target) = rename(links: aggregate.link, from: base, keepLast: false)
        aggregate.link = renamed
        if let filter = aggregate.filter, let target { aggregate.filter = rename(filter, on: target) }
        return aggregate
    }

    /// An Enrichment field over `base` with the link renamed.
    func rename(_ value: EnrichmentValue, on base: String) -> EnrichmentValue {
        switch value {
        case .value(.attribute(let path)): return .value(.attribute(rename(path, from: base)))
        case .value(.aggregate(let aggregate)): return .value(.aggregate(rename(aggregate, on: base)))
        case .rows(var rows):
            let (renamed, target) = rename(links: rows.link, from: base, keepLast: false)
            rows.link = renamed
            if let target {
                rows.filter = rows.filter.map { rename($0, on: target) }
                rows.columns = rows.columns.map { rename($0, from: target) }
            }
            return .rows(rows)
        }
    }

    /// A template with `{{profile.…}}` and `{{target.…}}` fields renamed; `target` is the
    /// population's entity (nil when unknown: its fields are left alone).
    public func rename(template: String, profile: String?, target: String?) -> String {
        var out = ""
        var rest = template[...]
        while let open = rest.range(of: "{{") {
            guard let close = rest[open.upperBound...].range(of: "}}") else { break }
            out += rest[..<open.upperBound]
            let inside = String(rest[open.upperBound..<close.lowerBound])
            out += renameTag(inside, profile: profile, target: target)
            rest = rest[close.lowerBound...]
            out += "}}"
            rest = rest.dropFirst(2)
        }
        return out + rest
    }

    func renameTag(_ tag: String, profile: String?, target: String?) -> String {
        // Keep the sigil and spacing; rewrite only the dotted name.
        let sigils = Set("#^/&{")
        var prefix = ""
        var body = Substring(tag)
        while let c = body.first, c == " " || sigils.contains(c) {
            prefix.append(c)
            body = body.dropFirst()
        }
        var suffix = ""
        while let c = body.last, c == " " || c == "}" {
            suffix = String(c) + suffix
            body = body.dropLast()
        }
        let parts = body.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 3, let root = parts.first else { return tag }
        let base: String? =
            switch root {
            case "profile": profile
            case "target": target
            default: nil
            }
        guard let base else { return tag }
        let renamed = rename(links: Array(parts.dropFirst()), from: base, keepLast: true).segments
        return prefix + ([root] + renamed).joined(separator: ".") + suffix
    }

    /// The campaign with every use of the link renamed; `audiences` gives saved audiences'
    /// entities (for Read audience nodes). Returns nil when nothing uses the link.
    public func rename(_ campaign: Campaign, audiences: [String: String]) -> Campaign? {
        var result = campaign
        // Populations are followed through the catalog as it was, before the rename.
        let inbound = campaign.inboundEntities(catalog: catalog, audiences: audiences)
        for index in result.nodes.indices {
            let upstream = inbound[result.nodes[index].id]
            switch result.nodes[index].config {
            case .buildAudience(let entityName, let rule, let emit):
                result.nodes[index].config = .buildAudience(entity: entityName, rule: rename(rule, on: entityName), emitWhenEmpty: emit)
            case .changeDimension(let link):
                if upstream == entity && link == oldName { result.nodes[index].config = .changeDimension(link: newName) }
            case .split(let seed, var subsets, let overlap, let skipEmpty):
                if let upstream {
                    for i in subsets.indices { subsets[i].rule = subsets[i].rule.map { rename($0, on: upstream) } }
                }
                result.nodes[index].config = .split(seed: seed, subsets: subsets, overlap: overlap, skipEmpty: skipEmpty)
            case .message(let channel, var settings):
                settings.content = settings.content.map { ($0.0, rename(template: $0.1, profile: catalog.profileEntity, target: upstream)) }
                result.nodes[index].config = .message(channel, settings)
            case .enrich(var fields):
                guard let upstream else { break }
                for i in fields.indices { fields[i].value = rename(fields[i].value, on: upstream) }
                result.nodes[index].config = .enrich(fields: fields)
            case .readAudience, .wait, .waitUntil, .combine, .deduplicate, .saveAudience, .test, .fork, .andJoin, .end, .endAndStart:
                break
            }
        }
        return result == campaign ? nil : result
    }
}
