// Writes a Swift file holding the text of each campaign file given, for the demo generator:
//   herald-embed-examples OUTPUT.swift FILE.json…
import Foundation

let arguments = CommandLine.arguments.dropFirst()
guard let output = arguments.first else {
    FileHandle.standardError.write(Data("usage: herald-embed-examples OUTPUT.swift FILE.json…\n".utf8))
    exit(2)
}
var source = """
    // Generated at build time from Examples/*.json; edit those files, not this one.

    enum ExampleFiles {
        /// Each example campaign file's name (without `.json`) and text, by name.
        static let all: [(name: String, text: String)] = [

    """
for path in arguments.dropFirst() {
    let url = URL(fileURLWithPath: path)
    guard let text = try? String(contentsOf: url, encoding: .utf8) else {
        FileHandle.standardError.write(Data("herald-embed-examples: cannot read \(path) as UTF-8 text\n".utf8))
        exit(1)
    }
    // A raw string with more #s than any run of them in the text cannot end early.
    var hashes = "#"
    while text.contains("\"" + hashes) { hashes += "#" }
    let name = url.deletingPathExtension().lastPathComponent
    source += "        (\(String(reflecting: name)), \(hashes)\"\"\"\n\(text.hasSuffix("\n") ? text : text + "\n")\"\"\"\(hashes)),\n"
}
source += "    ]\n}\n"
do {
    try Data(source.utf8).write(to: URL(fileURLWithPath: output), options: .atomic)
} catch {
    FileHandle.standardError.write(Data("herald-embed-examples: cannot write \(output): \(error)\n".utf8))
    exit(1)
}
