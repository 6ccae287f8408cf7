import Foundation
import PackagePlugin

/// Makes the campaign files in `Examples/` part of the demo generator: one Swift file, generated
/// at build time, holds each file's text, so `herald demo` and `Examples/` share one source.
@main struct EmbedExamples: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let folder = context.package.directoryURL.appending(path: "Examples")
        let files = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "json" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        let output = context.pluginWorkDirectoryURL.appending(path: "ExampleFiles.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(files.count) example campaigns",
                executable: try context.tool(named: "herald-embed-examples").url,
                arguments: [output.path] + files.map(\.path),
                inputFiles: files,
                outputFiles: [output])
        ]
    }
}
