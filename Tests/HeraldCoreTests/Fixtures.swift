import HeraldCore

/// A small hand-made catalog shaped like the demo store.
enum Fixtures {
    static let catalog: Catalog = {
        let profiles = Entity(
            name: "profiles", primaryKey: "id", keyType: .integer,
            attributes: [
                Attribute(name: "id", type: .integer), Attribute(name: "email", type: .text), Attribute(name: "first_name", type: .text),
                Attribute(name: "country", type: .text), Attribute(name: "age", type: .integer),
                Attribute(name: "score", type: .real), Attribute(name: "vip", type: .boolean),
                Attribute(name: "signup_date", type: .date), Attribute(name: "seen_at", type: .datetime),
                Attribute(name: "secret", type: .text, hidden: true),
            ],
            links: [
                Link(name: "bookings", target: "bookings", sourceColumn: "id", targetColumn: "profile_id", cardinality: .oneToMany),
                Link(name: "home", target: "cities", sourceColumn: "home_id", targetColumn: "id", cardinality: .manyToOne),
            ])
        let bookings = Entity(
            name: "bookings", primaryKey: "id", keyType: .integer,
            attributes: [
                Attribute(name: "id", type: .integer), Attribute(name: "profile_id", type: .integer),
                Attribute(name: "status", type: .text), Attribute(name: "amount", type: .real),
            ],
            links: [Link(name: "profile", target: "profiles", sourceColumn: "profile_id", targetColumn: "id", cardinality: .manyToOne)])
        let cities = Entity(
            name: "cities", primaryKey: "id", keyType: .integer,
            attributes: [Attribute(name: "id", type: .integer), Attribute(name: "country", type: .text)])
        let products = Entity(
            name: "products", primaryKey: "sku", keyType: .text,
            attributes: [Attribute(name: "sku", type: .text), Attribute(name: "price", type: .real)])
        return Catalog(
            entities: [profiles, bookings, cities, products], profileEntity: "profiles", profileChannels: ProfileChannels(email: "email"))
    }()

    static func node(_ id: String, _ config: NodeConfig) -> Node { Node(id: NodeID(id), label: "Node " + id, config: config) }

    static func email(subject: String = "Hello", text: String = "Body") -> NodeConfig {
        .message(.email, ChannelSettings(content: [("subject", subject), ("text", text)]))
    }

    static func audience(_ rule: String, entity: String = "profiles") -> NodeConfig {
        .buildAudience(entity: entity, rule: try! Rule(parsing: rule), emitWhenEmpty: false)
    }
}

extension SplitMix64 {
    /// One of `items`, at random.
    mutating func pick<T>(_ items: [T]) -> T { items[Int(next(below: UInt64(items.count)))] }

    /// Applies `edits` random replacements, deletions or insertions of `alphabet` items to
    /// `items`, for fuzzing a reader with near-valid input.
    mutating func mutate<T>(_ items: inout [T], alphabet: [T], edits: Int) {
        for _ in 0..<edits where !items.isEmpty {
            let at = Int(next(below: UInt64(items.count)))
            switch next(below: 3) {
            case 0: items[at] = pick(alphabet)
            case 1: items.remove(at: at)
            default: items.insert(pick(alphabet), at: at)
            }
        }
    }
}
