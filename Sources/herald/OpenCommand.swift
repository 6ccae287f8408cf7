import ArgumentParser
import Foundation
import HeraldCore
import HeraldStore
import HeraldTUI

struct OpenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "open", abstract: "Open the terminal interface on a store (the default command).")

    @Argument(help: ArgumentHelp("The store file.", valueName: "store"))
    var path: String = ProcessInfo.processInfo.environment["HERALD_DB"] ?? "sample.db"

    @Option(name: .long, help: "Theme name (a file in Themes/ or ~/.config/herald/themes/).")
    var theme: String?

    @Flag(name: .long, help: "Select with the mouse (click, double click opens) and scroll with the wheel (also HERALD_MOUSE=1).")
    var mouse = false

    @OptionGroup var config: ConfigOptions

    func run() throws {
        // A configuration named on the command line is checked now, not at the first live run;
        // one the usual search finds is read now too, and a problem in it said on the status
        // bar (designing needs no configuration; a live run refuses it with the same words).
        var notice: String?
        do { _ = try config.load() } catch  where config.path == nil {
            notice = "live runs refused until this is fixed: \((error as? HeraldError)?.message ?? "\(error)")"
        }
        let store = try Store.openForReading(path: path)
        let themeName = theme ?? ProcessInfo.processInfo.environment["HERALD_THEME"]
        // The interface owns the main thread; ArgumentParser calls run() on it.
        let mouse = self.mouse || ProcessInfo.processInfo.environment["HERALD_MOUSE"] == "1"
        let status = try MainActor.assumeIsolated {
            try TerminalApp.run(store: store, themeName: themeName, mouse: mouse, deliveryConfig: config.path, notice: notice)
        }
        if status != 0 { throw ExitCode(status) }
    }
}
