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

    static func isEmpty(_ tag: String, in values: TemplateValues) -> Bool { TemplateTag(tag).isEmpty(in: values) }

    static func set(_ tag: String, _ text: String, in values: inout TemplateValues) { TemplateTag(tag).set(text, in: &values) }

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

/// Where a template tag's value is: a profile or target attribute path, or an added field.
enum TemplateTag: Equatable {
    case profile(String)
    case target(String)
    case added(String)

    init(_ tag: String) {
        if tag.hasPrefix("profile."), tag.count > 8 {
            self = .profile(String(tag.dropFirst(8)))
        } else if tag.hasPrefix("target."), tag.count > 7 {
            self = .target(String(tag.dropFirst(7)))
        } else {
            self = .added(tag)
        }
    }

    func isEmpty(in values: TemplateValues) -> Bool {
        let value: String??
        switch self {
        case .profile(let path): value = values.profile[path]
        case .target(let path): value = values.target[path]
        case .added(let name):
            switch values.added[name] {
            case .value(let v): value = .some(v)
            case .rows(let rows): return rows.isEmpty
            case nil: value = nil
            }
        }
        guard let present = value, let text = present else { return true }
        return text.isEmpty
    }

    func set(_ text: String, in values: inout TemplateValues) {
        switch self {
        case .profile(let path): values.profile[path] = text
        case .target(let path): values.target[path] = text
        case .added(let name): values.added[name] = .value(text)
        }
    }

    /// The value as Mustache shows a variable (empty when missing), or nil when only Mustache
    /// can say (a list of related rows named as a variable).
    func plainValue(in values: TemplateValues) -> String? {
        switch self {
        case .profile(let path): return (values.profile[path] ?? nil) ?? ""
        case .target(let path): return (values.target[path] ?? nil) ?? ""
        case .added(let name):
            switch values.added[name] {
            case .value(let v): return v ?? ""
            case .rows: return nil
            case nil: return ""
            }
        }
    }
}

/// A channel node's templates parsed once, to render many recipients' messages.
public struct PreparedMessage: @unchecked Sendable {
    struct Field {
        var name: String
        var template: MustacheTemplate
        /// The tags outside sections, and whether each opens one.
        var tags: [(tag: String, ref: TemplateTag, opensSection: Bool)]
        /// The template as text and plain variables, when it is only that (most are): rendered
        /// without Mustache's general machinery, with the same result.
        var plain: [PlainSegment]?
        var escapesHTML: Bool
    }

    /// A piece of a template made only of text and variables.
    enum PlainSegment {
        case text(String)
        case variable(TemplateTag, escaped: Bool)
    }

    /// The segments of a template with no sections, partials, comments or delimiter changes.
    static func plainSegments(_ template: String) -> [PlainSegment]? {
        var segments: [PlainSegment] = []
        var rest = Substring(template)
        while let open = rest.range(of: "{{") {
            if open.lowerBound > rest.startIndex { segments.append(.text(String(rest[..<open.lowerBound]))) }
            var inner = rest[open.upperBound...]
            let triple = inner.hasPrefix("{")
            let closing = triple ? "}}}" : "}}"
            if triple { inner = inner.dropFirst() }
            guard let close = inner.range(of: closing) else { return nil }
            var name = inner[..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            var escaped = !triple
            if !triple, name.hasPrefix("&") {
                name = name.dropFirst().trimmingCharacters(in: .whitespaces)
                escaped = false
            }
            guard !name.isEmpty, name != ".", name != "profile", name != "target", let first = name.first, !"#^/>!=%{&".contains(first),
                name.hasPrefix("profile.") || name.hasPrefix("target.") || !name.contains(".")
            else { return nil }
            segments.append(.variable(TemplateTag(name), escaped: escaped))
            rest = inner[close.upperBound...]
        }
        if !rest.isEmpty { segments.append(.text(String(rest))) }
        return segments
    }

    static func htmlEscaped(_ text: String) -> String {
        // "<>&\"'" in ASCII: most values have none of them.
        guard text.utf8.contains(where: { $0 == 0x3C || $0 == 0x3E || $0 == 0x26 || $0 == 0x22 || $0 == 0x27 }) else { return text }
        var escaped = ""
        escaped.reserveCapacity(text.count)
        for c in text {
            switch c {
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "&": escaped += "&amp;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(c)
            }
        }
        return escaped
    }

    /// The field rendered from its plain segments, or nil when Mustache must render it.
    static func renderPlain(_ segments: [PlainSegment], escapesHTML: Bool, values: TemplateValues) -> String? {
        var text = ""
        for segment in segments {
            switch segment {
            case .text(let s): text += s
            case .variable(let tag, let escaped):
                guard let shown = tag.plainValue(in: values) else { return nil }
                text += escaped && escapesHTML ? htmlEscaped(shown) : shown
            }
        }
        return text
    }
    let fields: [Field]
    let defaults: [String: String]
    let channel: Channel

    /// - Parameter plainFastPath: whether templates of only text and variables skip Mustache's
    ///   general machinery (the same result, several times faster); false to compare.
    public init(_ settings: ChannelSettings, channel: Channel, plainFastPath: Bool = true) throws {
        self.channel = channel
        defaults = Dictionary(settings.defaults, uniquingKeysWith: { a, _ in a })
        fields = try settings.content.map { name, template in
            if let problem = MessageTemplates.syntaxProblem(template) { throw HeraldError(.validation, "\(name): \(problem)") }
            let source = MessageTemplates.isHTML(name) ? template : "{{% CONTENT_TYPE: TEXT}}" + template
            let tags = CampaignValidator.templateTags(template).filter { $0.sections.isEmpty }.map {
                ($0.tag, TemplateTag($0.tag), $0.opensSection)
            }
            let isHTML = MessageTemplates.isHTML(name)
            return Field(
                name: name, template: try MustacheTemplate(string: source), tags: tags,
                plain: plainFastPath ? Self.plainSegments(template) : nil,
                escapesHTML: isHTML)
        }
    }

    /// Each field over `values`; empty values take their declared default, and those with none
    /// are listed in `missing`.
    public func render(_ values: TemplateValues) -> RenderedMessage {
        var missing: [String] = []
        var rendered: [RenderedField] = []
        // A default is the tag's value wherever it appears: applied once for every field.
        var data = values
        for field in fields {
            for (tag, ref, opensSection) in field.tags {
                guard ref.isEmpty(in: data) else { continue }
                if let fallback = defaults[tag] {
                    ref.set(fallback, in: &data)
                } else if !missing.contains(tag) && !opensSection {
                    // An empty section is simply not shown ({{^tag}} is there for that).
                    missing.append(tag)
                }
            }
        }
        var object: [String: Any]?
        for field in fields {
            let text: String
            if let plain = field.plain, let fast = Self.renderPlain(plain, escapesHTML: field.escapesHTML, values: data) {
                text = fast
            } else {
                if object == nil { object = MessageTemplates.object(data) }
                text = field.template.render(object!)
            }
            rendered.append(
                RenderedField(name: field.name, text: text, segments: channel == .sms && field.name == "text" ? SMSSegments(text) : nil))
        }
        return RenderedMessage(fields: rendered, missing: missing)
    }
}

extension RenderedMessage {
    /// Why the message cannot go on its channel although every tag had a value: push data that
    /// is not a JSON object (a value that broke its quoting, most likely). Nil when it can go.
    /// Says where, never what: the text may be personal.
    public func problem(on channel: Channel) -> String? {
        guard channel == .push, let data = fields.first(where: { $0.name == "data" })?.text,
            !data.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
        else { return nil }
        if case .object? = try? JSONValue.parse(data) { return nil }
        return "its push data is not a JSON object once rendered (a value inserted into it may have broken its quoting)"
    }
}
