/// A value computed for each row of a population: an attribute reached through N-1 and 1-1
/// links (`home_destination.city`), or an aggregate over a one-to-many link
/// (`bookings.count(status = "confirmed")`). Written and printed in the rule language.
public enum ValueExpression: Hashable, Sendable, CustomStringConvertible {
    case attribute(AttributePath)
    case aggregate(Aggregate)

    /// Parses the textual form; errors carry the position of the problem.
    public init(parsing source: String) throws(RuleSyntaxError) {
        self = try RuleParser.parseValue(source)
    }

    /// The canonical textual form; `ValueExpression(parsing: v.text) == v`.
    public var text: String {
        switch self {
        case .attribute(let path): path.description
        case .aggregate(let a): RulePrinter.aggregate(a)
        }
    }

    public var description: String { text }
}

/// The first rows of a one-to-many link, for templates to loop over ("your 3 upcoming
/// bookings"): chosen by a filter, ordered, limited, each with some columns.
public struct RelatedRows: Hashable, Sendable {
    /// Links from the population's entity; the last one is one-to-many.
    public var link: [String]
    /// Columns of each related row, as paths from the related entity (`departs`, `destination.city`).
    public var columns: [AttributePath]
    public var filter: Rule?
    /// The column the rows are ordered by; nil keeps the related table's key order.
    public var orderBy: String?
    public var descending: Bool
    /// How many rows at most (1 to ``RelatedRows/maximumRows``).
    public var first: Int

    public static let maximumRows = 100

    public init(
        link: [String], columns: [AttributePath], filter: Rule? = nil, orderBy: String? = nil, descending: Bool = false, first: Int
    ) {
        self.link = link
        self.columns = columns
        self.filter = filter
        self.orderBy = orderBy
        self.descending = descending
        self.first = first
    }

    /// The name a column takes in each row: its attribute's (`destination.city` → `city`), so
    /// renaming a link leaves templates alone.
    public static func columnName(_ path: AttributePath) -> String { path.attribute }
}

/// What an Enrichment field computes.
public enum EnrichmentValue: Hashable, Sendable {
    case value(ValueExpression)
    case rows(RelatedRows)
}

/// One column an Enrichment node adds to its population.
public struct EnrichmentField: Hashable, Sendable, CustomStringConvertible {
    /// The column's name, as templates and later nodes see it.
    public var name: String
    public var value: EnrichmentValue

    public init(name: String, value: EnrichmentValue) {
        self.name = name
        self.value = value
    }

    /// `trips = bookings.count(…)`, `upcoming = first 3 bookings (departs, destination.city) where … by departs`.
    public var description: String {
        switch value {
        case .value(let v): return "\(name) = \(v.text)"
        case .rows(let rows):
            var text =
                "\(name) = first \(rows.first) \(rows.link.joined(separator: ".")) (\(rows.columns.map(\.description).joined(separator: ", ")))"
            if let filter = rows.filter { text += " where \(filter.text)" }
            if let order = rows.orderBy { text += " by \(order)\(rows.descending ? " descending" : "")" }
            return text
        }
    }
}

/// The type of an added column.
public enum EnrichmentType: Hashable, Sendable, CustomStringConvertible {
    case scalar(AttributeType)
    /// A JSON array of objects, one per related row, with these columns.
    case rows([String: AttributeType])

    public var description: String {
        switch self {
        case .scalar(let t): t.rawValue
        case .rows(let columns): "rows of (\(columns.keys.sorted().joined(separator: ", ")))"
        }
    }
}

/// An added column as later nodes see it: its name, type and the node that computes it.
public struct EnrichmentColumn: Hashable, Sendable {
    public var name: String
    public var type: EnrichmentType
    public var node: NodeID

    public init(name: String, type: EnrichmentType, node: NodeID) {
        self.name = name
        self.type = type
        self.node = node
    }
}

extension RuleChecker {
    /// The type of an Enrichment field on `entity`, or throws naming what is wrong.
    public func type(of value: EnrichmentValue, on entity: Entity) throws -> EnrichmentType {
        switch value {
        case .value(.attribute(let path)):
            return .scalar(try resolve(path, from: entity).attribute.type)
        case .value(.aggregate(let aggregate)):
            return .scalar(try type(of: aggregate, on: entity))
        case .rows(let rows):
            let (_, _, target) = try resolveOneToMany(rows.link, from: entity)
            if let filter = rows.filter { try checkPart(filter, on: target) }
            guard !rows.columns.isEmpty else { throw HeraldError(.invalidInput, "rule: name at least one column of each related row") }
            guard (1...RelatedRows.maximumRows).contains(rows.first) else {
                throw HeraldError(.invalidInput, "rule: first must be 1 to \(RelatedRows.maximumRows), found \(rows.first)")
            }
            if let order = rows.orderBy {
                guard let attribute = target.attribute(order), !attribute.hidden else {
                    throw HeraldError(
                        .invalidInput,
                        "rule: unknown attribute '\(order)' on '\(target.name)'\(Names.suggestion(for: order, in: target.referenceableNames))"
                    )
                }
            }
            var columns: [String: AttributeType] = [:]
            for path in rows.columns {
                let name = RelatedRows.columnName(path)
                guard columns[name] == nil else {
                    throw HeraldError(
                        .invalidInput, "rule: two columns are named '\(name)'; each related row's columns need distinct attribute names")
                }
                columns[name] = try resolve(path, from: target).attribute.type
            }
            return .rows(columns)
        }
    }

    /// Checks an aggregate over a one-to-many link and returns the type of its value: an
    /// integer for `count`, the column's type for `min`, `max` and `latest`, a number for `sum`
    /// and `avg`.
    public func type(of aggregate: Aggregate, on entity: Entity) throws -> AttributeType {
        let (_, _, target) = try resolveOneToMany(aggregate.link, from: entity)
        if let filter = aggregate.filter { try checkPart(filter, on: target) }
        guard let columnName = aggregate.column else { return .integer }
        guard let column = target.attribute(columnName), !column.hidden else {
            throw HeraldError(
                .invalidInput,
                "rule: unknown attribute '\(columnName)' on '\(target.name)'\(Names.suggestion(for: columnName, in: target.referenceableNames))"
            )
        }
        switch aggregate.function {
        case .sum, .avg:
            guard column.type.isNumeric else {
                throw HeraldError(
                    .invalidInput, "rule: \(aggregate.function.rawValue) needs a number column; '\(columnName)' is \(column.type.rawValue)")
            }
            return aggregate.function == .sum && column.type == .integer ? .integer : .real
        case .latest:
            guard column.type == .date || column.type == .datetime else {
                throw HeraldError(
                    .invalidInput, "rule: latest needs a date or date-time column; '\(columnName)' is \(column.type.rawValue)")
            }
            return column.type
        case .count, .min, .max:
            return column.type
        }
    }
}

extension Campaign {
    /// The columns added by Enrichment nodes that reach each node's population: those of the
    /// node's main input, plus its own for an Enrichment node's output. A Change dimension's
    /// `out` port starts a new entity, so it carries none; an And-join keeps the columns all its
    /// branches carry. Fields whose type cannot be known (a catalog problem, reported by the
    /// validator) are left out.
    public func enrichmentColumns(catalog: Catalog, audiences: [String: String]) -> [NodeID: [EnrichmentColumn]] {
        let entities = inboundEntities(catalog: catalog, audiences: audiences)
        let checker = RuleChecker(catalog: catalog, variables: variableBindings)
        var outgoing: [PortRef: [EnrichmentColumn]] = [:]
        var inbound: [NodeID: [EnrichmentColumn]] = [:]
        let byID = Dictionary(nodes.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        for id in topologicalOrder() ?? nodes.map(\.id) {
            guard let node = byID[id] else { continue }
            let arriving = node.inputPorts.map { port in self.inbound(id).first { $0.toPort == port }.flatMap { outgoing[$0.source] } }
            var carried: [EnrichmentColumn]
            let definition = node.definition
            if definition.intersectsInputColumns {
                let sets = arriving.compactMap { $0 }
                carried = (sets.first ?? []).filter { column in sets.allSatisfy { $0.contains(column) } }
            } else {
                carried = (arriving.first ?? nil) ?? []
            }
            inbound[id] = carried
            if !definition.addedFields.isEmpty, let entityName = entities[id], let entity = catalog.entity(entityName) {
                let mine = definition.addedFields.compactMap { field in
                    (try? checker.type(of: field.value, on: entity)).map { EnrichmentColumn(name: field.name, type: $0, node: id) }
                }
                carried = carried.filter { c in !mine.contains { $0.name == c.name } } + mine
            }
            for port in node.outputPorts {
                if !definition.carriesColumns(to: port) { continue }
                outgoing[PortRef(node: id, port: port)] = carried
            }
        }
        return inbound
    }
}
