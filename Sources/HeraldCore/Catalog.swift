/// The value type of an attribute, as Herald understands it (SQLite stores fewer types).
public enum AttributeType: String, Codable, Sendable, CaseIterable {
    case integer, real, text, boolean, date, datetime

    /// Maps a declared SQLite column type to Herald's type, following SQLite's affinity rules
    /// and recognising the conventional date, time and boolean names.
    public static func fromDeclared(_ declared: String) -> AttributeType {
        let t = declared.uppercased()
        if t.contains("DATETIME") || t.contains("TIMESTAMP") { return .datetime }
        if t.contains("DATE") { return .date }
        if t.contains("BOOL") { return .boolean }
        if t.contains("INT") { return .integer }
        if t.contains("CHAR") || t.contains("CLOB") || t.contains("TEXT") { return .text }
        if t.contains("REAL") || t.contains("FLOA") || t.contains("DOUB") || t.contains("NUMERIC")
            || t.contains("DECIMAL")
        {
            return .real
        }
        return .text
    }

    /// The SQLite column type Herald declares for this type when it creates a table.
    public var declaredSQLType: String {
        switch self {
        case .integer: "INTEGER"
        case .real: "REAL"
        case .text: "TEXT"
        case .boolean: "BOOLEAN"
        case .date: "DATE"
        case .datetime: "DATETIME"
        }
    }

    public var isNumeric: Bool { self == .integer || self == .real }
}

/// One column of an entity.
public struct Attribute: Codable, Sendable, Equatable {
    public var name: String
    public var label: String
    public var type: AttributeType
    public var hidden: Bool

    public init(name: String, label: String? = nil, type: AttributeType, hidden: Bool = false) {
        self.name = name
        self.label = label ?? name
        self.type = type
        self.hidden = hidden
    }
}

/// How many rows on each side of a link.
public enum Cardinality: String, Codable, Sendable {
    /// Each source row has at most one target row and vice versa.
    case oneToOne = "1-1"
    /// Many source rows point to one target row (bookings → profile).
    case manyToOne = "N-1"
    /// One source row has many target rows (profile → bookings).
    case oneToMany = "1-N"
}

/// A named way from one entity to another: `source.sourceColumn = target.targetColumn`.
public struct Link: Codable, Sendable, Equatable {
    public var name: String
    public var target: String
    public var sourceColumn: String
    public var targetColumn: String
    public var cardinality: Cardinality
    /// Whether the link came from a foreign key (false: declared by the user or an import).
    public var discovered: Bool

    public init(
        name: String, target: String, sourceColumn: String, targetColumn: String,
        cardinality: Cardinality, discovered: Bool = true
    ) {
        self.name = name
        self.target = target
        self.sourceColumn = sourceColumn
        self.targetColumn = targetColumn
        self.cardinality = cardinality
        self.discovered = discovered
    }
}

/// The columns through which a profile is reached on each channel.
public struct ProfileChannels: Codable, Sendable, Equatable {
    public var email: String?
    public var phone: String?
    public var pushToken: String?
    public var postalAddress: [String]
    public var timeZone: String?
    public var locale: String?
    /// Channels (raw values of ``Channel``) whose marketing messages need the profile's
    /// explicit opt-in: an unknown consent excludes the message (`consent_unknown`).
    public var optIn: [String] = []

    public init(
        email: String? = nil, phone: String? = nil, pushToken: String? = nil,
        postalAddress: [String] = [], timeZone: String? = nil, locale: String? = nil, optIn: [String] = []
    ) {
        self.optIn = optIn
        self.email = email
        self.phone = phone
        self.pushToken = pushToken
        self.postalAddress = postalAddress
        self.timeZone = timeZone
        self.locale = locale
    }
}

/// A table the user targets: its key, attributes and links.
public struct Entity: Codable, Sendable, Equatable {
    public var name: String
    public var label: String
    public var primaryKey: String
    public var keyType: AttributeType
    public var attributes: [Attribute]
    public var links: [Link]

    public init(
        name: String, label: String? = nil, primaryKey: String, keyType: AttributeType,
        attributes: [Attribute], links: [Link] = []
    ) {
        self.name = name
        self.label = label ?? name
        self.primaryKey = primaryKey
        self.keyType = keyType
        self.attributes = attributes
        self.links = links
    }

    public func attribute(_ name: String) -> Attribute? {
        attributes.first { $0.name == name }
    }

    public func link(_ name: String) -> Link? {
        links.first { $0.name == name }
    }

    /// Names a rule may use at this entity: visible attributes and link names.
    public var referenceableNames: [String] {
        attributes.filter { !$0.hidden }.map(\.name) + links.map(\.name)
    }
}

/// Which tables are entities, how they link, and which one is the profile.
public struct Catalog: Codable, Sendable, Equatable {
    public var entities: [Entity]
    public var profileEntity: String?
    public var profileChannels: ProfileChannels

    public init(entities: [Entity], profileEntity: String? = nil, profileChannels: ProfileChannels = .init()) {
        self.entities = entities
        self.profileEntity = profileEntity
        self.profileChannels = profileChannels
    }

    public func entity(_ name: String) -> Entity? {
        entities.first { $0.name == name }
    }

    /// The entity or a user-facing error naming the closest match.
    public func requireEntity(_ name: String, field: String = "entity") throws -> Entity {
        if let e = entity(name) { return e }
        throw HeraldError(
            .notFound,
            "\(field): unknown entity '\(name)'\(Names.suggestion(for: name, in: entities.map(\.name)))"
                + " (known: \(entities.map(\.name).joined(separator: ", ")))"
        )
    }

    /// The link from `entity` that reaches the profile entity directly, if any (N-1 or 1-1).
    public func linkToProfile(from entity: String) -> Link? {
        guard let profile = profileEntity, let e = self.entity(entity) else { return nil }
        return e.links.first { $0.target == profile && $0.cardinality != .oneToMany }
    }
}
