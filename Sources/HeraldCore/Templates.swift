import Foundation
import Mustache

/// The values a message's templates are rendered over: `profile.*` (the recipient), `target.*`
/// (the population's row, the profile itself for a population of profiles) and the fields
/// Enrichment nodes added, values or lists of related rows.
public struct TemplateValues: Sendable, Equatable {
    /// Attribute path (`first_name`, `home.city`) → value as text; nil when empty in the data.
    public var profile: [String: String?]
    public var target: [String: String?]
    public var added: [String: AddedValue]

    public init(profile: [String: String?] = [:], target: [String: String?] = [:], added: [String: AddedValue] = [:]) {
        self.profile = profile
        self.target = target
        self.added = added
    }
}

/// An Enrichment field's value for one row.
public enum AddedValue: Sendable, Equatable {
    case value(String?)
    /// Related rows: each row's columns by name.
    case rows([[String: String?]])
}

/// One template field rendered.
public struct RenderedField: Sendable, Equatable {
    public var name: String
    public var text: String
    /// For SMS text: its encoding and how many parts it is sent in.
    public var segments: SMSSegments?

    public init(name: String, text: String, segments: SMSSegments?) {
        self.name = name
        self.text = text
        self.segments = segments
    }
}

/// A message rendered for one recipient: each field, and the tags that had no value and no
/// declared default (such a message is not sent).
public struct RenderedMessage: Sendable, Equatable {
    public var fields: [RenderedField]
    public var missing: [String]

    public init(fields: [RenderedField], missing: [String]) {
        self.fields = fields
        self.missing = missing
    }
}

/// Mustache templates (mustache(5), through swift-mustache): `{{profile.first_name}}`,
/// sections over related rows (`{{#upcoming}}{{city}}{{/upcoming}}`), HTML-escaped in HTML
/// bodies and verbatim elsewhere.
public enum MessageTemplates {
    /// Content fields rendered as HTML (values are escaped).
    public static func isHTML(_ field: String) -> Bool { field == "html" }

    /// Why the template does not parse, with its line and column; nil when it does.
    public static func syntaxProblem(_ template: String) -> String? {
        do {
            _ = try MustacheTemplate(string: template)
            return nil
        } catch let error as MustacheTemplate.ParserError {
            let what: String
            switch error.error as? MustacheTemplate.Error {
            case .sectionCloseNameIncorrect: what = "a section is closed with another name than it was opened with"
            case .unfinishedName: what = "a tag is not finished with }}"
            case .expectedSectionEnd: what = "a section is not closed ({{/name}})"
            case .invalidSetDelimiter: what = "a delimiter change is badly written"
            case .invalidConfigVariableSyntax, .unrecognisedConfigVariable: what = "an unknown {{% … }} setting"
            default: what = "\(error.error)"
            }
            return "the template does not read: \(what) (line \(error.context.lineNumber), column \(error.context.columnNumber))"
        } catch {
            return "the template does not read: \(error)"
        }
    }

    /// Renders each of `settings`' content fields over `values`; empty values take their
    /// declared default, and those with none are listed in `missing`.
    public static func render(_ settings: ChannelSettings, channel: Channel, values: TemplateValues) throws -> RenderedMessage {
        try PreparedMessage(settings, channel: channel).render(values)
    }

    static func isEmpty(_ tag: String, in values: TemplateValues) -> Bool {
        let parts = tag.split(separator: ".", maxSplits: 1).map(String.init)
        let value: String??
        switch parts.first {
        case "profile" where parts.count == 2: value = values.profile[parts[1]]
        case "target" where parts.count == 2: value = values.target[parts[1]]
        default:
            switch values.added[tag] {
            case .value(let v): value = .some(v)
            case .rows(let rows): return rows.isEmpty
            case nil: value = nil
            }
        }
        guard let present = value, let text = present else { return true }
        return text.isEmpty
    }

    static func set(_ tag: String, _ text: String, in values: inout TemplateValues) {
        let parts = tag.split(separator: ".", maxSplits: 1).map(String.init)
        switch parts.first {
        case "profile" where parts.count == 2: values.profile[parts[1]] = text
        case "target" where parts.count == 2: values.target[parts[1]] = text
        default: values.added[tag] = .value(text)
        }
    }

    /// The values as nested dictionaries (`home.city` under `home`), as Mustache reads them.
    static func object(_ values: TemplateValues) -> [String: Any] {
        func nest(_ flat: [String: String?]) -> [String: Any] {
            var root: [String: Any] = [:]
            for (path, value) in flat.sorted(by: { $0.key < $1.key }) {
                let parts = path.split(separator: ".").map(String.init)
                insert(&root, parts[...], value ?? "")
            }
            return root
        }
        func insert(_ dictionary: inout [String: Any], _ parts: ArraySlice<String>, _ value: String) {
            guard let first = parts.first else { return }
            if parts.count == 1 {
                dictionary[first] = value
                return
            }
            var child = dictionary[first] as? [String: Any] ?? [:]
            insert(&child, parts.dropFirst(), value)
            dictionary[first] = child
        }
        var object: [String: Any] = ["profile": nest(values.profile), "target": nest(values.target)]
        for (name, value) in values.added {
            switch value {
            case .value(let v): object[name] = v ?? ""
            case .rows(let rows): object[name] = rows.map { nest($0) }
            }
        }
        return object
    }
}

/// How an SMS text travels: GSM-7 (160 characters in one part, 153 per part beyond) unless a
/// character needs UCS-2 (70, then 67 per part); GSM-7's extension characters count twice.
public struct SMSSegments: Sendable, Equatable, CustomStringConvertible {
    public enum Encoding: String, Sendable { case gsm7 = "GSM-7", ucs2 = "UCS-2" }
    public var encoding: Encoding
    /// Septets for GSM-7, UTF-16 code units for UCS-2.
    public var units: Int
    public var parts: Int

    static let basic: Set<Character> = Set(
        "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
    )
    static let extended: Set<Character> = Set("^{}\\[~]|€\u{0C}")

    public init(_ text: String) {
        if text.allSatisfy({ Self.basic.contains($0) || Self.extended.contains($0) }) {
            encoding = .gsm7
            units = text.reduce(0) { $0 + (Self.extended.contains($1) ? 2 : 1) }
            parts = units <= 160 ? 1 : (units + 152) / 153
        } else {
            encoding = .ucs2
            units = text.utf16.count
            parts = units <= 70 ? 1 : (units + 66) / 67
        }
        if units == 0 { parts = 0 }
    }

    public var description: String {
        "\(encoding.rawValue), \(units) \(encoding == .gsm7 ? "characters" : "UTF-16 units"), \(parts) part\(parts == 1 ? "" : "s")"
    }
}

/// A channel node's templates parsed once, to render many recipients' messages.
public struct PreparedMessage: @unchecked Sendable {
    struct Field {
        var name: String
        var template: MustacheTemplate
        /// The tags outside sections, and whether each opens one.
        var tags: [(tag: String, opensSection: Bool)]
    }
    let fields: [Field]
    let defaults: [String: String]
    let channel: Channel

    public init(_ settings: ChannelSettings, channel: Channel) throws {
        self.channel = channel
        defaults = Dictionary(settings.defaults, uniquingKeysWith: { a, _ in a })
        fields = try settings.content.map { name, template in
            if let problem = MessageTemplates.syntaxProblem(template) { throw HeraldError(.validation, "\(name): \(problem)") }
            let source = MessageTemplates.isHTML(name) ? template : "{{% CONTENT_TYPE: TEXT}}" + template
            let tags = CampaignValidator.templateTags(template).filter { $0.sections.isEmpty }.map { ($0.tag, $0.opensSection) }
            return Field(name: name, template: try MustacheTemplate(string: source), tags: tags)
        }
    }

    /// Each field over `values`; empty values take their declared default, and those with none
    /// are listed in `missing`.
    public func render(_ values: TemplateValues) -> RenderedMessage {
        var missing: [String] = []
        var rendered: [RenderedField] = []
        for field in fields {
            var data = values
            for (tag, opensSection) in field.tags {
                guard MessageTemplates.isEmpty(tag, in: data) else { continue }
                if let fallback = defaults[tag] {
                    MessageTemplates.set(tag, fallback, in: &data)
                } else if !missing.contains(tag) && !opensSection {
                    // An empty section is simply not shown ({{^tag}} is there for that).
                    missing.append(tag)
                }
            }
            let text = field.template.render(MessageTemplates.object(data))
            rendered.append(
                RenderedField(name: field.name, text: text, segments: channel == .sms && field.name == "text" ? SMSSegments(text) : nil))
        }
        return RenderedMessage(fields: rendered, missing: missing)
    }
}
