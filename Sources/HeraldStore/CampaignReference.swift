import HeraldCore

/// How a campaign is named to the store. The interface and the engine hold ids and pass them as
/// ids; only words a person typed are looked up as a name first, so a campaign named "5" is never
/// taken for the campaign whose id is 5.
public enum CampaignReference: Sendable, Hashable, ExpressibleByStringLiteral, CustomStringConvertible {
    /// The campaign's id, from a screen or another record: looked up as an id only.
    case id(Int64)
    /// Its name, exactly but for case, as a campaign file names another campaign.
    case name(String)
    /// What a person typed on the command line: a name first, else a numeric id.
    case typed(String)

    public init(stringLiteral value: String) { self = .typed(value) }

    public var description: String {
        switch self {
        case .id(let id): "#\(id)"
        case .name(let name), .typed(let name): name
        }
    }
}

/// The words that report a rename: the End nodes that start the campaign follow its new name.
public func renameReport(old: String, new: String, startedBy: [String]) -> String {
    guard !startedBy.isEmpty else { return "renamed '\(old)' to '\(new)'" }
    let names = startedBy.map { "'\($0)'" }.joined(separator: ", ")
    let verbs = startedBy.count == 1 ? "starts it and follows" : "start it and follow"
    return "renamed '\(old)' to '\(new)'; \(names) \(verbs)"
}
