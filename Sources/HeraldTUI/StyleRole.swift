public import HeraldCore

/// What a cell is drawn as, named once: the views draw with roles, themes style them by name.
/// A theme's style for `canvas.node` serves every node kind without one of its own: names are
/// looked up from most to least specific.
public struct StyleRole: Hashable, Sendable, CustomStringConvertible {
    /// The theme key, `ui.dialog.border`.
    public let name: String

    private init(_ name: String) { self.name = name }

    public var description: String { name }

    public static let text = StyleRole("ui.text")
    public static let titlebar = StyleRole("ui.titlebar")
    public static let header = StyleRole("ui.header")
    public static let selection = StyleRole("ui.selection")
    public static let status = StyleRole("ui.status")
    public static let dim = StyleRole("ui.dim")
    public static let warning = StyleRole("ui.warning")
    public static let error = StyleRole("ui.error")
    public static let keybarKey = StyleRole("ui.keybar.key")
    public static let keybarLabel = StyleRole("ui.keybar.label")
    public static let dialog = StyleRole("ui.dialog")
    public static let dialogBorder = StyleRole("ui.dialog.border")
    public static let dialogTitle = StyleRole("ui.dialog.title")
    public static let field = StyleRole("ui.field")
    public static let cursor = StyleRole("ui.cursor")
    public static let canvasTitle = StyleRole("canvas.title")
    public static let edge = StyleRole("canvas.edge")
    public static let emptyEdge = StyleRole("canvas.edge.empty")
    public static let port = StyleRole("canvas.port")
    public static let count = StyleRole("canvas.count")
    public static let running = StyleRole("exec.running")
    public static let done = StyleRole("exec.done")
    public static let failed = StyleRole("exec.failed")
    public static let skipped = StyleRole("exec.skipped")

    /// A node's box, by its kind (`canvas.node.email`).
    public static func node(_ kind: NodeKind) -> StyleRole { StyleRole("canvas.node.\(kind.rawValue)") }

    /// A node's kind line and mark, by its kind (`canvas.kind.email`).
    public static func kind(_ kind: NodeKind) -> StyleRole { StyleRole("canvas.kind.\(kind.rawValue)") }

    /// Every role the views draw with.
    public static let all: [StyleRole] =
        [
            text, titlebar, header, selection, status, dim, warning, error, keybarKey, keybarLabel, dialog, dialogBorder,
            dialogTitle, field, cursor, canvasTitle, edge, emptyEdge, port, count, running, done, failed, skipped,
        ] + NodeKind.allCases.flatMap { [node($0), kind($0)] }

    /// The names a theme may style: every role, and every group of roles (`canvas.node`, `ui`).
    public static let themeKeys: Set<String> = {
        var keys = Set<String>()
        for role in all {
            var name = Substring(role.name)
            while true {
                keys.insert(String(name))
                guard let dot = name.lastIndex(of: ".") else { break }
                name = name[..<dot]
            }
        }
        return keys
    }()
}
