import ArgumentParser
import HeraldCore
import HeraldTUI

struct ThemeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "theme", abstract: "List the interface's themes or check one for problems.",
        subcommands: [List.self, Check.self], defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the themes found and where Herald looks for them.")
        @OptionGroup var output: OutputOptions

        func run() throws {
            let names = Theme.available()
            if output.json {
                printJSON(
                    .object([
                        ("themes", .array(names.map(JSONValue.string))), ("searchPaths", .array(Theme.searchPaths().map(JSONValue.string))),
                    ]))
                return
            }
            for name in names {
                let theme = try? Theme.load(named: name)
                say(
                    "\(name)  \(theme?.variant ?? "?")  \(theme?.glyphs.name ?? "?") lines\(theme?.warnings.isEmpty == false ? "  (\(Names.counted(theme!.warnings.count, "warning")))" : "")"
                )
            }
            say("searched: " + Theme.searchPaths().joined(separator: ", "))
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Load themes and print every warning (unknown keys, bad colours); exit 2 if there is one.")
        @Argument(help: "Theme names or theme files (NAME.toml paths); default: every theme found.") var names: [String] = []

        func run() throws {
            var problems = 0
            for name in names.isEmpty ? Theme.available() : names {
                do {
                    let isFile = name.hasSuffix(".toml") || name.contains("/")
                    let theme = isFile ? try Theme.load(file: name) : try Theme.load(named: name)
                    if theme.warnings.isEmpty { say("\(name): ok") }
                    for w in theme.warnings {
                        warn("\(name): \(w)")
                        problems += 1
                    }
                } catch {
                    throw HeraldError(.notFound, "theme: \(error)")
                }
            }
            if problems > 0 { throw ExitCode(2) }
        }
    }
}
