public import Foundation
public import HeraldCore
public import HeraldStore

/// A script for the interface without a terminal (`herald script`): one step a line.
///
///     # a comment
///     press j j enter       keys by name: a character, enter, esc, tab, space, backspace,
///                           up, down, left, right, pgup, pgdn, home, end, f1…f12, C-s
///     type Spring welcome   the rest of the line, typed key by key
///     wait                  until every effect has reported back
///     screen                waits, then prints the screen
///     resize 80 24          as a terminal resize would
///
/// The whole script is read first: a line that does not read runs nothing.
public struct HeadlessScript: Equatable, Sendable {
    public enum Step: Equatable, Sendable {
        case press([Key])
        case type(String)
        case wait
        case screen
        case resize(width: Int, height: Int)
    }

    public var steps: [Step]

    public init(steps: [Step]) { self.steps = steps }

    /// Reads a script; errors name the line and what was expected.
    public init(parsing text: String) throws {
        var steps: [Step] = []
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.hasSuffix("\r") ? String(raw.dropLast()) : String(raw)
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty, !trimmed.hasPrefix("#") else { continue }
            let word = String(trimmed.prefix { $0 != " " })
            let rest = trimmed.dropFirst(word.count).drop { $0 == " " }
            func refuse(_ why: String) -> HeraldError { HeraldError(.invalidInput, "script line \(number + 1): \(why)") }
            switch word {
            case "press":
                let names = rest.split(separator: " ").map(String.init)
                guard !names.isEmpty else { throw refuse("press needs key names, e.g. press j enter") }
                steps.append(
                    .press(
                        try names.map { name in
                            guard let key = Self.key(named: name) else {
                                throw refuse("unknown key '\(name)' (a character, enter, esc, tab, space, up, C-s, f8…)")
                            }
                            return key
                        }))
            case "type":
                // The text as written after one space, so leading spaces can be typed.
                let after = line.drop { $0 == " " }.dropFirst(word.count)
                guard after.first == " ", after.count > 1 else { throw refuse("type needs text, e.g. type Spring welcome") }
                steps.append(.type(String(after.dropFirst())))
            case "wait", "screen":
                guard rest.isEmpty else { throw refuse("\(word) takes nothing after it") }
                steps.append(word == "wait" ? .wait : .screen)
            case "resize":
                let numbers = rest.split(separator: " ").compactMap { Int($0) }
                guard numbers.count == 2, rest.split(separator: " ").count == 2, numbers.allSatisfy({ (1...1000).contains($0) }) else {
                    throw refuse("resize needs a width and a height, e.g. resize 80 24")
                }
                steps.append(.resize(width: numbers[0], height: numbers[1]))
            default:
                throw refuse("unknown step '\(word)': expected press, type, wait, screen or resize")
            }
        }
        self.steps = steps
    }

    /// The key a name stands for, or nil.
    public static func key(named name: String) -> Key? {
        let names: [String: Key] = [
            "enter": .enter, "return": .enter, "esc": .escape, "escape": .escape, "tab": .tab, "space": .char(" "),
            "backspace": .backspace, "up": .up, "down": .down, "left": .left, "right": .right, "pgup": .pageUp, "pgdn": .pageDown,
            "home": .home, "end": .end,
        ]
        if let key = names[name.lowercased()] { return key }
        if name.count == 1, let c = name.first { return .char(c) }
        for prefix in ["C-", "c-", "Ctrl-", "ctrl-"] where name.hasPrefix(prefix) {
            let rest = name.dropFirst(prefix.count)
            guard rest.count == 1, let c = rest.first, c.isLetter else { return nil }
            return .ctrl(Character(c.lowercased()))
        }
        if name.lowercased().hasPrefix("f"), let n = Int(name.dropFirst()), (1...12).contains(n) { return .function(n) }
        return nil
    }

    /// Why a run of the script stopped short.
    public struct Busy: Error, CustomStringConvertible {
        public var description: String
    }

    /// Runs the script on `store`, `width`×`height` cells, handing each screen asked for to
    /// `output` (and the last one, when none was). Throws when the interface is still busy
    /// after `timeout` seconds at a wait.
    public func run(
        on store: Store, width: Int, height: Int, glyphs: GlyphSet = .rounded, timeout: TimeInterval = 30, deliveryConfig: String? = nil,
        output: (String) -> Void
    ) throws {
        let session = HeadlessSession(store: store, width: width, height: height, deliveryConfig: deliveryConfig)
        defer { session.close() }
        func settle() throws {
            guard session.waitUntilIdle(timeout: timeout) else {
                throw Busy(description: "the interface was still busy after \(Int(timeout)) s; nothing more was pressed")
            }
        }
        try settle()
        var shown = false
        for step in steps {
            switch step {
            case .press(let keys): for key in keys { session.press(key) }
            case .type(let text): session.type(text)
            case .wait: try settle()
            case .screen:
                try settle()
                output(session.screen(glyphs: glyphs))
                shown = true
            case .resize(let width, let height): session.resize(width: width, height: height)
            }
            if session.state.quit { break }
        }
        try settle()
        if !shown { output(session.screen(glyphs: glyphs)) }
    }
}
