import Foundation
public import HeraldCore
import HeraldStore

/// Finding the recipient a message preview is for: profiles by name, address or key, and the
/// rows of another entity (bookings) that belong to one profile. Each search is a rule run by the
/// audience service, so its values are bound and its connection guarded like any count's.
extension AudienceService {
    /// One match: its key, and how it reads (its label columns, its address).
    public struct Match: Sendable, Equatable {
        public var key: String
        public var title: String
        public var detail: String

        public init(key: String, title: String, detail: String) {
            self.key = key
            self.title = title
            self.detail = detail
        }
    }

    /// Profiles whose key is `text`, or whose name-like or address columns contain it (ignoring
    /// case), up to `limit`.
    public func searchProfiles(_ text: String, limit: Int = 20) throws -> [Match] {
        let catalog = try store.catalog()
        guard let name = catalog.profileEntity, let profile = catalog.entity(name) else {
            throw HeraldError(.invalidInput, "the catalog names no profile entity (herald catalog profile ENTITY)")
        }
        let needle = text.trimmingCharacters(in: .whitespaces)
        guard !needle.isEmpty else { return [] }
        let channels = catalog.profileChannels
        let visible = profile.attributes.filter { !$0.hidden }
        let named = visible.filter { $0.type == .text && $0.name.lowercased().contains("name") }.map(\.name)
        let addresses = [channels.email, channels.phone].compactMap { $0 }.filter { column in visible.contains { $0.name == column } }
        let searched = named + addresses
        var alternatives: [Rule] = searched.map { .text(AttributePath([$0]), .containsIgnoringCase, .text(needle), negated: false) }
        let key = AttributePath([profile.primaryKey])
        if profile.keyType == .integer, let number = Int64(needle) {
            alternatives.append(.compare(key, .equal, .integer(number)))
        } else if profile.keyType != .integer {
            alternatives.append(.compare(key, .equal, .text(needle)))
        }
        guard !alternatives.isEmpty else { return [] }
        let rule: Rule = alternatives.count == 1 ? alternatives[0] : .or(alternatives)
        let columns = [profile.primaryKey] + named + addresses
        let found = try sample(AudienceSource(entity: name, rule: rule), columns: columns, limit: limit)
        return found.rows.map { row in
            let names = row.dropFirst().prefix(named.count).filter { !$0.isEmpty }.joined(separator: " ")
            let contact = row.dropFirst(1 + named.count).filter { !$0.isEmpty }.joined(separator: " · ")
            return Match(key: row.first ?? "", title: names.isEmpty ? "\(name) \(row.first ?? "")" : names, detail: contact)
        }
    }

    /// The rows of `entity` that belong to the profile `profileKey` (through its link to the
    /// profile entity), up to `limit`, each read by its first few columns.
    public func rows(of entity: String, belongingTo profileKey: String, limit: Int = 50) throws -> [Match] {
        let catalog = try store.catalog()
        guard let profileName = catalog.profileEntity, let profile = catalog.entity(profileName) else {
            throw HeraldError(.invalidInput, "the catalog names no profile entity (herald catalog profile ENTITY)")
        }
        let target = try catalog.requireEntity(entity)
        guard let link = catalog.linkToProfile(from: entity) else {
            throw HeraldError(.validation, "\(entity) has no link to \(profileName); its messages have no recipient")
        }
        let path = AttributePath([link.name, profile.primaryKey])
        let value: Literal = profile.keyType == .integer ? .integer(Int64(profileKey) ?? -1) : .text(profileKey)
        let shown = target.attributes.filter { !$0.hidden && $0.name != target.primaryKey }.prefix(3).map(\.name)
        let found = try sample(
            AudienceSource(entity: entity, rule: .compare(path, .equal, value)), columns: [target.primaryKey] + shown, limit: limit)
        return found.rows.map { row in
            Match(
                key: row.first ?? "", title: "\(entity) \(row.first ?? "")",
                detail: zip(shown, row.dropFirst()).map { "\($0) \($1)" }.joined(separator: " · "))
        }
    }
}
