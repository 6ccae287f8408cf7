import CNCursesW
import Foundation
import Synchronization

/// The signal that asked Herald to stop (0 when none). Set from signal handlers, read by the loop.
let pendingSignal = Atomic<Int32>(0)
/// The write end of the interface loop's wake-up pipe (-1: none). A signal writes a byte to it,
/// so one that arrives after the loop last looked at ``pendingSignal`` and before it went to
/// sleep wakes it all the same.
let signalWakeFD = Atomic<Int32>(-1)

/// Why the terminal interface cannot start.
public struct TerminalError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// The only code that calls curses: start-up with its hygiene, input, and a diffing presenter.
@MainActor
final class Terminal {
    private(set) var width = 0
    private(set) var height = 0
    let depth: ColorDepth
    let unicode: Bool
    private var previous: CellGrid?
    private var pairs: [ResolvedStyle: Int32] = [:]
    private var ended = false

    /// Checks that full-screen mode can work, then starts curses.
    init(environment: [String: String]) throws {
        setlocale(LC_ALL, "")
        guard isatty(0) == 1, isatty(1) == 1 else {
            throw TerminalError(
                message:
                    "the terminal interface needs a terminal on standard input and output; use the CLI commands (herald --help) in scripts")
        }
        let term = environment["TERM"] ?? ""
        guard !term.isEmpty, term != "dumb", herald_terminal_can_address_cursor() == 1 else {
            throw TerminalError(
                message:
                    "TERM='\(term)' cannot move the cursor, so the terminal interface cannot draw; set TERM (for example xterm-256color)")
        }
        unicode = herald_locale_is_utf8() == 1
        // A parent may start us with signals blocked or ignored, and both survive exec: then
        // resizes and SIGTERM would never arrive. Take the defaults back before curses starts,
        // so ncurses installs its SIGWINCH handler.
        herald_unblock_signals()
        guard herald_newterm() != nil else {
            throw TerminalError(message: "could not initialise the terminal '\(term)'")
        }
        raw()
        noecho()
        nonl()
        keypad(herald_stdscr(), true)
        set_escdelay(25)
        curs_set(0)
        var colors = 0
        if has_colors() {
            start_color()
            use_default_colors()
            colors = Int(herald_colors())
        }
        depth = ColorDepth.detect(colors: colors, environment: environment)
        width = Int(herald_cols())
        height = Int(herald_rows())
        Terminal.installSignalHandlers()
    }

    /// SIGINT/SIGTERM/SIGHUP only set a flag and wake the loop; the loop restores the terminal and
    /// exits 128+signal.
    static func installSignalHandlers() {
        for s in [SIGINT, SIGTERM, SIGHUP] {
            signal(s) { number in
                pendingSignal.store(number, ordering: .relaxed)
                // write(2) is async-signal-safe; a full pipe already wakes the loop.
                let fd = signalWakeFD.load(ordering: .relaxed)
                var byte: UInt8 = 1
                if fd >= 0 { _ = write(fd, &byte, 1) }
            }
        }
    }

    /// Waits up to `timeoutMS` for a key.
    func readKey(timeoutMS: Int32) -> Key? {
        wtimeout(herald_stdscr(), timeoutMS)
        var value: wint_t = 0
        let result = wget_wch(herald_stdscr(), &value)
        if result == ERR { return nil }
        if result == herald_key_code_yes() {
            let code = Int32(value)
            if code == herald_key_mouse() {
                var x: Int32 = 0
                var y: Int32 = 0
                switch herald_mouse_event(&x, &y) {
                case 1: return .click(x: Int(x), y: Int(y), double: false)
                case 2: return .click(x: Int(x), y: Int(y), double: true)
                case 4: return .wheel(-1)
                case 5: return .wheel(1)
                default: return nil
                }
            }
            if code == herald_key_resize() {
                width = Int(herald_cols())
                height = Int(herald_rows())
                previous = nil
                return .resize
            }
            switch code {
            case KEY_UP: return .up
            case KEY_DOWN: return .down
            case KEY_LEFT: return .left
            case KEY_RIGHT: return .right
            case KEY_NPAGE: return .pageDown
            case KEY_PPAGE: return .pageUp
            case KEY_HOME: return .home
            case KEY_END: return .end
            case KEY_BACKSPACE: return .backspace
            case KEY_ENTER: return .enter
            default:
                if code >= KEY_F0 && code <= KEY_F0 + 12 { return .function(Int(code - KEY_F0)) }
                return nil
            }
        }
        switch value {
        case 27: return .escape
        case 13, 10: return .enter
        case 9: return .tab
        case 127, 8: return .backspace
        case 1...26: return .ctrl(Character(Unicode.Scalar(value + 96)!))
        default:
            guard let scalar = Unicode.Scalar(value) else { return nil }
            return .char(Character(scalar))
        }
    }

    /// Forces the next frame to be written in full (Ctrl-L, resize).
    /// Reports clicks and the wheel as keys (`--mouse`).
    func enableMouse() { herald_mouse_on() }

    func invalidate() {
        previous = nil
        clearok(herald_stdscr(), true)
    }

    /// Writes the cells that changed since the last frame, then one `doupdate`.
    func present(_ grid: CellGrid, theme: Theme) {
        let old = previous.flatMap { $0.width == grid.width && $0.height == grid.height ? $0 : nil }
        if old == nil { werase(herald_stdscr()) }
        var changed = false
        for y in 0..<grid.height {
            var x = 0
            while x < grid.width {
                if let old, old[x, y] == grid[x, y] {
                    x += 1
                    continue
                }
                // A run of changed cells sharing one role.
                let role = grid[x, y].role
                var text: [wchar_t] = []
                let start = x
                while x < grid.width && grid[x, y].role == role && (old == nil || old![x, y] != grid[x, y] || x == start) {
                    let cell = grid[x, y]
                    if cell.width > 0 {
                        for scalar in (unicode ? cell.text : Terminal.asciiFallback(cell.text)).unicodeScalars {
                            text.append(wchar_t(bitPattern: scalar.value))
                        }
                    }
                    x += 1
                }
                let style = theme.resolve(role, depth: depth)
                _ = herald_draw(Int32(y), Int32(start), text, Int32(text.count), attributes(style), pair(style))
                changed = true
            }
        }
        previous = grid
        if changed || old == nil {
            wnoutrefresh(herald_stdscr())
            doupdate()
        }
    }

    /// Text for terminals whose locale is not UTF-8: common symbols get ASCII stand-ins,
    /// anything else a question mark (wide characters keep their two cells).
    static func asciiFallback(_ text: String) -> String {
        if text.allSatisfy(\.isASCII) { return text }
        let map: [String: String] = [
            "›": ">", "…": "~", "×": "x", "—": "-", "–": "-", "→": ">", "←": "<", "↑": "^", "↓": "v", "·": ".", "•": "*",
            "é": "e", "è": "e", "É": "E", "à": "a", "ç": "c", "ü": "u", "ö": "o", "ä": "a", "ñ": "n", "ó": "o", "í": "i", "ł": "l",
        ]
        if let m = map[text] { return m }
        return DisplayWidth.of(text) == 2 ? "??" : "?"
    }

    private func attributes(_ style: ResolvedStyle) -> attr_t {
        var a: attr_t = 0
        if style.attributes.contains(.bold) { a |= herald_attr_bold() }
        if style.attributes.contains(.dim) { a |= herald_attr_dim() }
        if style.attributes.contains(.underline) { a |= herald_attr_underline() }
        if style.attributes.contains(.reverse) { a |= herald_attr_reverse() }
        return a
    }

    private func pair(_ style: ResolvedStyle) -> Int32 {
        if depth == .mono || (style.foreground == -1 && style.background == -1) { return 0 }
        if let p = pairs[style] { return p }
        let p = alloc_pair(Int32(style.foreground), Int32(style.background))
        let result = p < 0 ? 0 : p
        pairs[style] = result
        return result
    }

    /// Restores the terminal; safe to call twice.
    func end() {
        guard !ended else { return }
        ended = true
        endwin()
    }
}
