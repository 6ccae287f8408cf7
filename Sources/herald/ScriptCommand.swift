import ArgumentParser
import Foundation
import HeraldCore
import HeraldStore
import HeraldTUI

/// The interface without a terminal: a script of keys in, the screen as text out. For
/// reproducing what a person sees, for captures in documents and for tests.
struct ScriptCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "script", abstract: "Drive the interface with a script of keys and print its screens (no terminal needed).",
        discussion: """
            One step a line: 'press KEY…' (a character, enter, esc, tab, space, backspace, up, down, left, right, \
            pgup, pgdn, home, end, f1…f12, C-s), 'type TEXT', 'wait' (until every count, load and save has \
            reported back), 'screen' (waits, then prints the screen), 'resize W H'; '#' starts a comment. The whole \
            script is read before anything runs. Without a 'screen' step the last screen is printed. Edits keep \
            drafts and saves write, exactly as in the interface.
            """)

    @Argument(help: ArgumentHelp("The script file, or - for standard input.", valueName: "script"))
    var script: String = "-"

    @OptionGroup var store: StoreOptions

    @Option(help: "Screen width in cells.") var width: Int = 100
    @Option(help: "Screen height in cells.") var height: Int = 30
    @Flag(help: "Draw with ASCII glyphs only.") var ascii = false
    @Option(help: "Seconds a step may wait for the interface to be idle.") var timeout: Int = 30
    @OptionGroup var config: ConfigOptions

    func validate() throws {
        guard (20...1000).contains(width) else { throw ValidationError("--width: expected 20 to 1000 cells, found \(width)") }
        guard (6...1000).contains(height) else { throw ValidationError("--height: expected 6 to 1000 cells, found \(height)") }
        guard timeout > 0 else { throw ValidationError("--timeout: expected a positive number of seconds, found \(timeout)") }
    }

    func run() throws {
        let data: Data?
        if script == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            data = FileManager.default.contents(atPath: script)
        }
        guard let data else { throw HeraldError(.notFound, "script: \(script) cannot be read") }
        guard let text = String(data: data, encoding: .utf8) else {
            throw HeraldError(.invalidInput, "script: \(script) is not UTF-8 text")
        }
        let parsed = try HeadlessScript(parsing: text)
        if config.path != nil { _ = try config.load() }
        let db = try Store.openForReading(path: store.db)
        do {
            try parsed.run(
                on: db, width: width, height: height, glyphs: ascii ? .ascii : .rounded, timeout: TimeInterval(timeout),
                deliveryConfig: config.path
            ) {
                say($0)
            }
        } catch let busy as HeadlessScript.Busy {
            throw HeraldError(.io, "script: \(busy.description)")
        }
    }
}
