import ArgumentParser
import Foundation
import HeraldCore
import HeraldEngine
import HeraldStore

struct CatalogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "catalog", abstract: "Show and refine the catalog: entities, attributes, links and the profile.",
        subcommands: [
            Show.self, Check.self, Indexes.self, Label.self, Hide.self, Unhide.self, RenameLink.self, Ref.self, Unref.self, Profile.self,
            TimeZoneSetting.self,
        ],
        defaultSubcommand: Show.self)

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the catalog.")
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let catalog = try store.openForReading().catalog()
            if output.json {
                printJSON(CatalogJSON.encode(catalog))
                return
            }
            for entity in catalog.entities {
                let profile = entity.name == catalog.profileEntity ? "  (profile)" : ""
                let label = entity.label == entity.name ? "" : "  \"\(entity.label)\""
                say("\(entity.name)\(label)  key \(entity.primaryKey)\(profile)")
                for a in entity.attributes {
                    var notes: [String] = []
                    if a.hidden { notes.append("hidden") }
                    if a.label != a.name { notes.append("\"\(a.label)\"") }
                    say(
                        "  \(a.name.padding(toLength: max(a.name.count, 20), withPad: " ", startingAt: 0))  \(a.type.rawValue)\(notes.isEmpty ? "" : "  " + notes.joined(separator: " "))"
                    )
                }
                for l in entity.links {
                    say(
                        "  → \(l.name)  \(l.cardinality.rawValue) \(l.target)  (\(entity.name).\(l.sourceColumn) = \(l.target).\(l.targetColumn))\(l.discovered ? "" : "  declared")"
                    )
                }
                say("")
            }
            if let profile = catalog.profileEntity {
                let c = catalog.profileChannels
                func show(_ v: String?) -> String { v ?? "—" }
                say(
                    "profile: \(profile)  email \(show(c.email))  phone \(show(c.phone))  push \(show(c.pushToken))  "
                        + "postal \(c.postalAddress.isEmpty ? "—" : c.postalAddress.joined(separator: ","))  time zone \(show(c.timeZone))  locale \(show(c.locale))"
                )
            } else {
                say("profile: none (name one with 'herald catalog profile ENTITY')")
            }
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check that date and date-time columns hold values that compare as time.",
            discussion: """
                Herald stores dates as YYYY-MM-DD and date-times as UTC instants, YYYY-MM-DDTHH:MM:SSZ, so that text \
                order is time order. Tables Herald did not import may hold other forms (local times, offsets, \
                numbers); rules on such a column are refused until the values are converted. Exits 2 when a \
                column is out of form.
                """)
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let db = try store.openForReading()
            let reports = try AudienceService(store: db).temporalReports(try db.catalog(), onlyUnverified: false)
            if output.json {
                printJSON(
                    .array(
                        reports.map { r in
                            .object([
                                ("entity", .string(r.entity)), ("attribute", .string(r.attribute)), ("type", .string(r.type.rawValue)),
                                ("values", .integer(Int64(r.values))), ("outOfForm", .integer(Int64(r.outOfForm))),
                                ("examples", .array(r.examples.map(JSONValue.string))),
                            ])
                        }))
            } else if reports.isEmpty {
                say("no date or date-time columns to check")
            } else {
                say(
                    table(
                        ["COLUMN", "TYPE", "VALUES", "OUT OF FORM", "EXAMPLES"],
                        reports.map { r in
                            [
                                "\(r.entity).\(r.attribute)", r.type.rawValue, Names.groupedCount(r.values),
                                Names.groupedCount(r.outOfForm),
                                cell(r.examples.joined(separator: ", "), 50),
                            ]
                        }))
                let bad = reports.filter { $0.outOfForm > 0 }
                say(
                    bad.isEmpty
                        ? "every date and date-time is in form"
                        : "\(Names.counted(bad.count, "column")) out of form: rules on \(bad.count == 1 ? "it" : "them") are refused until the values are rewritten (re-import the table, or convert them in SQL)"
                )
            }
            if reports.contains(where: { $0.outOfForm > 0 }) { throw ExitCode(2) }
        }
    }

    struct Indexes: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List, create (--apply) or drop (--drop) the indexes that serve saved audiences and campaigns.",
            discussion: """
                An index serves a one-to-many rule when it starts with the link's column and goes on with the \
                columns the rule filters and aggregates on: SQLite then answers from the index alone. Herald's \
                indexes are named herald_idx_TABLE_COLUMNS. --apply builds the missing ones (one write \
                transaction each) and prints how long the rules they serve took before and after.
                """)
        @Flag(name: .long, help: "Create the advised indexes that do not exist yet.") var apply = false
        @Flag(name: .long, help: "Drop every index Herald created (herald_idx_…).") var drop = false
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions

        func validate() throws {
            if apply && drop { throw ValidationError("--apply and --drop: choose one") }
        }

        func run() throws {
            let advisor = IndexAdvisor(service: AudienceService(store: try store.openForReading()))
            if drop {
                let dropped = try advisor.dropAll()
                say(dropped.isEmpty ? "no Herald indexes to drop" : "dropped \(dropped.joined(separator: ", "))")
                return
            }
            let advice = try advisor.advice()
            if apply {
                let missing = advice.filter { !$0.exists }
                guard !missing.isEmpty else {
                    say("nothing to create: the saved rules' indexes exist")
                    return
                }
                for item in missing {
                    let before = try advisor.timeRules(of: item)
                    Output.standardError("building \(item.name)…\n")
                    try advisor.apply([item])
                    let after = try advisor.timeRules(of: item)
                    say(
                        String(
                            format: "created %@: its rules took %.2f s, now %.2f s (%.1f× faster)", item.name, before, after,
                            before / max(after, 0.000_1)))
                }
                return
            }
            if output.json {
                printJSON(
                    .array(
                        advice.map { a in
                            .object([
                                ("name", .string(a.name)), ("table", .string(a.table)),
                                ("columns", .array(a.columns.map(JSONValue.string))),
                                ("exists", .bool(a.exists)), ("usedBy", .array(a.usedBy.map { JSONValue.string($0.description) })),
                                ("sql", .string(a.sql)),
                            ])
                        }))
                return
            }
            if advice.isEmpty {
                say("no index to advise: the saved rules' one-to-many links are served by existing indexes")
                return
            }
            for a in advice {
                let time = try advisor.timeRules(of: a)
                say("\(a.exists ? "exists" : "advised")  \(a.sql)")
                say(String(format: "  serves %@; those rules take %.2f s now", IndexAdvisor.RuleOrigin.describe(a.usedBy), time))
            }
            if advice.contains(where: { !$0.exists }) { say("create them with 'herald catalog indexes --apply'") }
        }
    }

    struct TimeZoneSetting: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "time-zone",
            abstract: "Show or set the zone date-times without an offset are read in (imports, rule literals); UTC by default.")
        @Argument(help: "An IANA time zone such as Europe/Paris.") var zone: String?
        @OptionGroup var store: StoreOptions

        func run() throws {
            guard let zone else {
                say(try store.openForReading().defaultTimeZone().identifier)
                return
            }
            try store.openForWriting().setDefaultTimeZone(zone)
            say("date-times without an offset are now read in \(zone)")
        }
    }

    /// Splits `entity.attribute`, or fails naming the argument.
    static func split(_ text: String, field: String, needsAttribute: Bool) throws -> (String, String?) {
        let parts = text.split(separator: ".", maxSplits: 1).map(String.init)
        if parts.isEmpty || (needsAttribute && parts.count < 2) {
            throw HeraldError(.invalidInput, "\(field): expected ENTITY.\(needsAttribute ? "NAME" : "[NAME]"), found '\(text)'")
        }
        return (parts[0], parts.count > 1 ? parts[1] : nil)
    }

    struct Label: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set the display label of an entity or attribute (empty text clears it).")
        @Argument(help: ArgumentHelp("ENTITY or ENTITY.ATTRIBUTE", valueName: "target")) var target: String
        @Argument(help: "The label.") var label: String
        @OptionGroup var store: StoreOptions

        func run() throws {
            let (entity, attribute) = try CatalogCommand.split(target, field: "target", needsAttribute: false)
            try store.openForWriting().setLabel(entity: entity, attribute: attribute, label: label.isEmpty ? nil : label)
            say("labelled \(target)")
        }
    }

    struct Hide: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Hide an attribute from rules, samples and the interface.")
        @Argument(help: ArgumentHelp("ENTITY.ATTRIBUTE", valueName: "attribute")) var attribute: String
        @OptionGroup var store: StoreOptions

        func run() throws {
            let (entity, name) = try CatalogCommand.split(attribute, field: "attribute", needsAttribute: true)
            try store.openForWriting().setHidden(entity: entity, attribute: name!, hidden: true)
            say("hid \(attribute)")
        }
    }

    struct Unhide: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a hidden attribute again.")
        @Argument(help: ArgumentHelp("ENTITY.ATTRIBUTE", valueName: "attribute")) var attribute: String
        @OptionGroup var store: StoreOptions

        func run() throws {
            let (entity, name) = try CatalogCommand.split(attribute, field: "attribute", needsAttribute: true)
            try store.openForWriting().setHidden(entity: entity, attribute: name!, hidden: false)
            say("unhid \(attribute)")
        }
    }

    struct RenameLink: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rename-link", abstract: "Rename a link on one entity.",
            discussion: """
                Refused when saved audiences or campaigns follow the link, naming each; with --update-dependents \
                their rules, template fields and Change dimension nodes are rewritten instead (a campaign gets a new version).
                """)
        @Argument(help: ArgumentHelp("ENTITY.LINK", valueName: "link")) var link: String
        @Argument(help: "The new name.") var newName: String
        @Flag(name: .long, help: "Rewrite the saved audiences and campaigns that use the link.") var updateDependents = false
        @OptionGroup var store: StoreOptions

        func run() throws {
            let (entity, name) = try CatalogCommand.split(link, field: "link", needsAttribute: true)
            let updated = try store.openForWriting().renameLink(
                entity: entity, link: name!, to: newName, updateDependents: updateDependents)
            say("renamed \(link) to \(newName)")
            for line in updated { say("  updated \(line)") }
        }
    }

    struct Ref: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Declare that a column references another entity (adds the link and its reverse).")
        @Argument(help: ArgumentHelp("ENTITY.COLUMN", valueName: "column")) var column: String
        @Argument(help: ArgumentHelp("TARGET or TARGET.COLUMN (default: the target's key)", valueName: "target")) var target: String
        @OptionGroup var store: StoreOptions

        func run() throws {
            let (entity, name) = try CatalogCommand.split(column, field: "column", needsAttribute: true)
            let (targetEntity, targetColumn) = try CatalogCommand.split(target, field: "target", needsAttribute: false)
            try store.openForWriting().declareReference(entity: entity, column: name!, target: targetEntity, targetColumn: targetColumn)
            say("declared \(column) → \(target)")
        }
    }

    struct Unref: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a declared reference.")
        @Argument(help: ArgumentHelp("ENTITY.COLUMN", valueName: "column")) var column: String
        @OptionGroup var store: StoreOptions

        func run() throws {
            let (entity, name) = try CatalogCommand.split(column, field: "column", needsAttribute: true)
            try store.openForWriting().removeReference(entity: entity, column: name!)
            say("removed the reference on \(column)")
        }
    }

    struct Profile: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Name the profile entity (message recipients) and its channel columns; an empty value clears one.")
        @Argument(help: "The profile entity.") var entity: String
        @Option(help: "E-mail address column.") var email: String?
        @Option(help: "Phone number column.") var phone: String?
        @Option(name: .customLong("push-token"), help: "Push token column.") var pushToken: String?
        @Option(name: .customLong("postal-address"), help: "Postal address columns, comma-separated.") var postalAddress: String?
        @Option(name: .customLong("time-zone"), help: "Time zone column.") var timeZone: String?
        @Option(help: "Locale column.") var locale: String?
        @Option(
            name: .customLong("opt-in"),
            help: "Channels whose marketing messages need an explicit opt-in, comma-separated (email,sms,push,directMail).")
        var optIn: String?
        @OptionGroup var store: StoreOptions

        func run() throws {
            var columns: [ProfileChannelField: String?] = [:]
            let given: [(ProfileChannelField, String?)] = [
                (.email, email), (.phone, phone), (.pushToken, pushToken), (.postalAddress, postalAddress),
                (.timeZone, timeZone), (.locale, locale), (.optIn, optIn),
            ]
            for (field, value) in given {
                if let value { columns[field] = value.isEmpty ? .some(nil) : .some(value) }
            }
            try store.openForWriting().setProfile(entity: entity, columns: columns)
            say("profile entity is now \(entity)")
        }
    }
}

/// The catalog as JSON for `--json`.
enum CatalogJSON {
    static func encode(_ catalog: Catalog) -> JSONValue {
        let c = catalog.profileChannels
        func opt(_ s: String?) -> JSONValue { s.map(JSONValue.string) ?? .null }
        return .object([
            ("profileEntity", opt(catalog.profileEntity)),
            (
                "profileChannels",
                .object([
                    ("email", opt(c.email)), ("phone", opt(c.phone)), ("pushToken", opt(c.pushToken)),
                    ("postalAddress", .array(c.postalAddress.map(JSONValue.string))), ("timeZone", opt(c.timeZone)),
                    ("locale", opt(c.locale)), ("optIn", .array(c.optIn.map(JSONValue.string))),
                ])
            ),
            (
                "entities",
                .array(
                    catalog.entities.map { e in
                        .object([
                            ("name", .string(e.name)), ("label", .string(e.label)), ("key", .string(e.primaryKey)),
                            ("keyType", .string(e.keyType.rawValue)),
                            (
                                "attributes",
                                .array(
                                    e.attributes.map { a in
                                        .object([
                                            ("name", .string(a.name)), ("label", .string(a.label)), ("type", .string(a.type.rawValue)),
                                            ("hidden", .bool(a.hidden)),
                                        ])
                                    })
                            ),
                            (
                                "links",
                                .array(
                                    e.links.map { l in
                                        .object([
                                            ("name", .string(l.name)), ("target", .string(l.target)),
                                            ("cardinality", .string(l.cardinality.rawValue)),
                                            ("sourceColumn", .string(l.sourceColumn)), ("targetColumn", .string(l.targetColumn)),
                                            ("declared", .bool(!l.discovered)),
                                        ])
                                    })
                            ),
                        ])
                    })
            ),
        ])
    }
}
