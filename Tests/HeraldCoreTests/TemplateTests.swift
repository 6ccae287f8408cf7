import HeraldCore
import Testing

/// Message templates: Mustache over profile, target and added fields.
@Suite struct TemplateTests {
    let values = TemplateValues(
        profile: ["first_name": "Zoé", "city": nil, "home.city": "Lyon"],
        target: ["destination": "Rome <Italy>"],
        added: [
            "trips": .value("3"),
            "upcoming": .rows([["departs": "2027-01-04", "city": "Rome"], ["departs": "2027-02-10", "city": "Oslo & Bergen"]]),
            "none": .rows([]),
        ])

    func render(_ content: [(String, String)], channel: Channel = .email, defaults: [(String, String)] = []) throws -> RenderedMessage {
        try MessageTemplates.render(ChannelSettings(content: content, defaults: defaults), channel: channel, values: values)
    }

    @Test func valuesAndLinksRender() throws {
        let message = try render([("subject", "Hi {{profile.first_name}} from {{profile.home.city}}"), ("text", "{{trips}} trips")])
        #expect(message.fields.map(\.text) == ["Hi Zoé from Lyon", "3 trips"])
        #expect(message.missing.isEmpty)
    }

    /// HTML bodies escape values; text fields keep them as they are.
    @Test func onlyHTMLIsEscaped() throws {
        let message = try render([("text", "To {{target.destination}}"), ("html", "<p>To {{target.destination}}</p>")])
        #expect(message.fields[0].text == "To Rome <Italy>")
        #expect(message.fields[1].text == "<p>To Rome &lt;Italy&gt;</p>")
    }

    @Test func sectionsLoopOverRelatedRows() throws {
        let message = try render([
            ("text", "{{#upcoming}}{{departs}} {{city}}; {{/upcoming}}{{^none}}no others{{/none}}"),
            ("html", "{{#upcoming}}<li>{{city}}</li>{{/upcoming}}"),
        ])
        #expect(message.fields[0].text == "2027-01-04 Rome; 2027-02-10 Oslo & Bergen; no others")
        #expect(message.fields[1].text == "<li>Rome</li><li>Oslo &amp; Bergen</li>")
        #expect(message.missing.isEmpty)
    }

    /// An empty value takes its declared default; without one it is reported, not sent blank.
    @Test func missingValuesTakeTheirDefaultOrAreReported() throws {
        let blank = try render([("text", "Hello {{profile.city}} {{profile.nickname}}")])
        #expect(blank.missing == ["profile.city", "profile.nickname"])
        let filled = try render([("text", "Hello {{profile.city}}")], defaults: [("profile.city", "traveller")])
        #expect(filled.fields[0].text == "Hello traveller")
        #expect(filled.missing.isEmpty)
    }

    /// An empty section is not a missing value, however the tag is spaced.
    @Test func emptySectionsAreNotMissing() throws {
        let message = try render([("text", "Trips:{{# none }} {{city}}{{/ none }}{{^ none }} none yet{{/ none }}")])
        #expect(message.fields[0].text == "Trips: none yet")
        #expect(message.missing.isEmpty, "\(message.missing)")
    }

    @Test func syntaxErrorsSayWhere() throws {
        let problem = try #require(MessageTemplates.syntaxProblem("Hi {{#upcoming}}{{city}}"))
        #expect(problem.contains("not closed"), "\(problem)")
        #expect(MessageTemplates.syntaxProblem("Hi {{profile.first_name}}") == nil)
        #expect(throws: HeraldError.self) { try render([("text", "{{#a}}{{/b}}")]) }
    }

    @Test func smsSegments() {
        #expect(SMSSegments("Hello").encoding == .gsm7)
        #expect(SMSSegments(String(repeating: "a", count: 160)).parts == 1)
        #expect(SMSSegments(String(repeating: "a", count: 161)).parts == 2)
        #expect(SMSSegments(String(repeating: "a", count: 306)).parts == 2)
        #expect(SMSSegments(String(repeating: "a", count: 307)).parts == 3)
        // € is an extension character: two septets.
        #expect(SMSSegments("10€").units == 4)
        // One character outside GSM-7 makes the whole text UCS-2.
        let zoe = SMSSegments("Zoë " + String(repeating: "a", count: 66))
        #expect(zoe.encoding == .ucs2 && zoe.units == 70 && zoe.parts == 1)
        #expect(SMSSegments("Zoë " + String(repeating: "a", count: 67)).parts == 2)
        #expect(SMSSegments("").parts == 0)
    }

    @Test func smsTextCarriesItsSegmentCount() throws {
        let message = try render([("text", "Hi {{profile.first_name}}")], channel: .sms)
        #expect(message.fields[0].segments == SMSSegments("Hi Zoé"))
    }
}

/// Validation lists template syntax errors and defaults that name no field.
@Suite struct TemplateValidationTests {
    func problems(_ settings: ChannelSettings) -> [String] {
        let campaign = Campaign(
            name: "T",
            nodes: [Fixtures.node("a", Fixtures.audience("age > 1")), Node(id: "m", label: "M", config: .message(.email, settings))],
            edges: [Edge(from: "a", to: "m")])
        return CampaignValidator(catalog: Fixtures.catalog).validate(campaign).map(\.description)
    }

    @Test func syntaxAndDefaults() {
        let broken = problems(ChannelSettings(content: [("subject", "Hi {{#profile.vip}}VIP"), ("text", "ok")]))
        #expect(broken.count == 1 && broken[0].contains("subject: the template does not read"), "\(broken)")
        let defaults = problems(
            ChannelSettings(
                content: [("subject", "Hi {{profile.first_name}}"), ("text", "ok")],
                defaults: [("profile.first_name", "there"), ("profile.nick", "x")]))
        #expect(defaults.count == 1 && defaults[0].contains("defaults.profile.nick"), "\(defaults)")
    }

    @Test func defaultsRoundTripThroughTheFile() throws {
        let node = Node(
            id: "m", label: "M",
            config: .message(
                .email, ChannelSettings(content: [("subject", "s"), ("text", "t")], defaults: [("profile.first_name", "you")])))
        let text = CampaignFormat.encodeText(Campaign(name: "T", nodes: [node]))
        #expect(text.contains("\"defaults\""))
        #expect(try CampaignFormat.decode(text: text).nodes == [node])
    }
}

/// Templates of only text and variables skip Mustache's general machinery: the result must be
/// Mustache's own, character for character.
@Suite struct PlainTemplateTests {
    @Test func thePlainPathRendersWhatMustacheRenders() throws {
        let values = TemplateValues(
            profile: ["first_name": "Zoé & \"Léa\" <3 'x'", "city": nil, "home.city": "Lyon", "last_name": "O'Brien"],
            target: ["destination": "Rome <Italy>", "departs": "2027-01-04"],
            added: ["trips": .value("3"), "upcoming": .rows([["city": "Rome"]]), "empty": .value(nil)])
        let templates = [
            "Hello {{profile.first_name}}!", "{{{profile.first_name}}} and {{& profile.last_name}}", "{{ profile.home.city }}",
            "no tags at all", "{{target.destination}} on {{target.departs}}", "{{trips}} trips, {{empty}}.", "{{profile.city}}",
            "{{#upcoming}}{{city}}{{/upcoming}}", "{{upcoming}}", "{{! a comment }}x", "{{profile.nope}}-{{unknown}}",
            "{{^empty}}none{{/empty}}", "a {{ trips }} b {{{ trips }}} c",
        ]
        for template in templates {
            for field in ["text", "html", "subject"] {
                let settings = ChannelSettings(content: [(field, template)], defaults: [("profile.city", "Paris")])
                let fast = try PreparedMessage(settings, channel: .email).render(values)
                let mustache = try PreparedMessage(settings, channel: .email, plainFastPath: false).render(values)
                #expect(fast == mustache, "\(field): \(template)")
            }
        }
    }
}
