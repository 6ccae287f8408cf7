public import HeraldCore
public import HeraldStore

/// A level of the focus stack above the screen. The top one takes every key; Esc pops one
/// level and never quits.
public enum Mode: Equatable, Sendable {
    /// A node's read-only inspector: its kind, configuration, ports and the shown run's counts.
    case inspector(NodeID)
    /// A list to pick from, filtered by typing.
    case menu(Menu)
    /// A question with lettered answers.
    case confirm(Confirmation)
    /// A one-line text field with a purpose (a name, a label).
    case prompt(Prompt)
    /// A node's configuration, field by field.
    case nodeForm(NodeForm)
    /// Choosing where the selected port leads.
    case connect(Connect)
    /// The draft's validation problems; Enter jumps to a problem's node.
    case problems(selection: Int)
    /// A message rendered for one recipient.
    case preview(MessagePreview)
    /// A rule of the node form below, as a tree of conditions.
    case ruleBuilder(RuleBuilder)
    /// The `:` command line.
    case commandLine(TextBuffer)
    /// The items of a list field of the form under it, in order.
    case listEditor(ListEditor)
    /// The days of the week of the schedule being typed in the prompt under it.
    case weekdays(WeekdayPicker)
    /// A month of days, for the date-time field of the form under it.
    case calendar(CalendarPicker)

    /// The commands that apply while the mode is on top.
    public var scope: CommandScope {
        switch self {
        case .inspector: .inspector
        // The help is browsed (j/k, / to filter) until its filter is started; then a menu.
        case .menu(let menu): menu.filtering ? .menu : .helpBrowse
        case .confirm: .confirm
        case .prompt: .prompt
        case .nodeForm(let form): form.editing == nil ? .nodeForm : .formField
        case .connect: .connect
        case .problems: .problems
        case .preview: .preview
        case .ruleBuilder: .ruleBuilder
        case .commandLine: .commandLine
        case .listEditor: .listEditor
        case .weekdays: .weekdays
        case .calendar: .calendar
        }
    }

    /// Whether printable keys are text here (so `q` and `j` type, not act).
    public var takesText: Bool {
        switch self {
        case .menu(let menu): menu.filtering
        case .prompt, .commandLine: true
        case .nodeForm(let form): form.editing != nil
        default: false
        }
    }
}

/// A menu's entries' meaning.
public enum MenuValue: Equatable, Sendable {
    case kind(NodeKind)
    /// A campaign from one of the examples, by name.
    case example(String)
    /// An empty campaign.
    case scratch
    case node(NodeID)
    /// A command of the registry, by id.
    case command(String)
    case setting(CampaignSetting)
    /// An attribute path for a condition; nil type: the number of related rows of a 1-N link.
    case attribute(String, AttributeType?)
    /// An operator for a condition, as the rule language writes it.
    case ruleOperator(String)
    /// An IANA time zone.
    case zone(String)
    case theme(String)
    /// A field's value as written.
    case text(String)
    /// An output port of a node.
    case port(PortRef)
}

public struct MenuItem: Equatable, Sendable {
    public var title: String
    public var detail: String
    public var value: MenuValue

    public init(title: String, detail: String, value: MenuValue) {
        self.title = title
        self.detail = detail
        self.value = value
    }
}

/// What picking a menu entry does.
public enum MenuPurpose: Equatable, Sendable {
    /// Adds a node of the picked kind after a port (or unconnected).
    case addNode(after: PortRef?)
    /// Creates a campaign from the picked example (or from scratch).
    case newCampaign
    /// The help: runs the picked command on the screen under it.
    case help
    /// Selects the picked node on the canvas.
    case goToNode
    /// Connects the port to the picked node.
    case connect(from: PortRef)
    /// Opens the picked campaign setting.
    case settings
    /// Sets the campaign's time zone.
    case timeZone
    /// Picks the theme; the highlighted one is shown while choosing, `previous` comes back on Esc.
    case theme(previous: String)
    /// The value of the selected field of the form under it.
    case fieldValue
    /// The attribute of a new condition in the rule builder.
    case ruleAttribute
    /// The operator of a new condition on `path`.
    case ruleOperator(path: String, type: AttributeType?)
    /// Which output port of a node the new node goes after.
    case addAfterPort
    /// The recipient of a message preview: a profile, or one of its rows.
    case previewRecipient(RecipientQuery)
}

public struct Menu: Equatable, Sendable {
    public var purpose: MenuPurpose
    public var title: String
    public var items: [MenuItem]
    public var filter = TextBuffer()
    public var selection = 0
    /// Typing filters the entries; the help starts without, its j/k moving, until '/'.
    public var filtering = true

    public init(purpose: MenuPurpose, title: String, items: [MenuItem]) {
        self.purpose = purpose
        self.title = title
        self.items = items
    }

    /// The entries whose title or detail contains the filter, ignoring case: titles that
    /// start with it first, then titles that contain it, then details.
    public var visible: [MenuItem] {
        let needle = filter.text.lowercased()
        guard !needle.isEmpty else { return items }
        let starts = items.filter { $0.title.lowercased().hasPrefix(needle) }
        let contains = items.filter { !$0.title.lowercased().hasPrefix(needle) && $0.title.lowercased().contains(needle) }
        let details = items.filter { !$0.title.lowercased().contains(needle) && $0.detail.lowercased().contains(needle) }
        return starts + contains + details
    }
}

/// What a confirmed answer does.
public enum ConfirmAction: Equatable, Sendable {
    case deleteNode(NodeID)
    /// Saves the draft, then leaves as `then` says.
    case saveAndLeave(Leaving)
    /// Drops the unsaved edits, then leaves.
    case discardAndLeave(Leaving)
    /// Takes back the draft left by an earlier session.
    case restoreDraft(Draft)
    /// Deletes the draft left by an earlier session.
    case discardDraft(DraftKey)
    case archiveCampaign(Int64)
    case deleteCampaign(Int64)
    /// Applies the node form's values and closes it.
    case applyForm
    /// Closes the node form without applying.
    case dropForm
    /// Starts a live run of the campaign open on the canvas.
    case startLiveRun
}

/// Where leaving the canvas goes.
public enum Leaving: Equatable, Sendable {
    case campaignList
    case quit
}

public struct Choice: Equatable, Sendable {
    public var key: Character
    public var title: String
    /// nil: only closes the question.
    public var action: ConfirmAction?

    public init(key: Character, title: String, action: ConfirmAction?) {
        self.key = key
        self.title = title
        self.action = action
    }
}

public struct Confirmation: Equatable, Sendable {
    public var question: String
    public var choices: [Choice]

    public init(question: String, choices: [Choice]) {
        self.question = question
        self.choices = choices
    }
}

/// What a prompt's text is for.
public enum PromptPurpose: Equatable, Sendable {
    case renameNode(NodeID)
    /// The name of a new campaign, made from `template` (empty for one from scratch).
    case newCampaign(template: Campaign?)
    case renameCampaign(Int64)
    case duplicateCampaign(Int64)
    /// A campaign file to import.
    case importFile
    /// Where to export a campaign's file.
    case exportFile(Int64)
    case description
    /// The campaign's variables, as a JSON object.
    case variables
    /// The saved campaign's schedule (empty: none).
    case schedule(campaignID: Int64)
    /// The value of a new condition of the rule builder.
    case ruleValue(path: String, operator: String, type: AttributeType?)
    /// A condition of the rule builder, edited as text.
    case ruleCondition(path: [Int])
    /// The profile to preview the form's message for: searched by name, address or key.
    case previewProfile
    /// The test address a proof of the previewed message goes to.
    case proofAddress
}

public struct Prompt: Equatable, Sendable {
    public var purpose: PromptPurpose
    public var title: String
    public var buffer: TextBuffer
    public var error: String?
    /// What the text means so far, updated as it is typed (a schedule's next launches).
    public var detail: [String] = []

    public init(purpose: PromptPurpose, title: String, text: String = "") {
        self.purpose = purpose
        self.title = title
        buffer = TextBuffer(text)
    }
}

/// One row of the node form: the label, the note, or a field of the node's kind.
public struct FormRow: Equatable, Sendable {
    public var field: NodeField
    public var text: String

    public init(field: NodeField, text: String) {
        self.field = field
        self.text = text
    }

    public var name: String { field.name }
    public var shape: NodeFieldShape { field.shape }
    public var hint: String { field.hint }
}

/// What a form edits: a node, or a part of a field of the form under it.
public enum FormTarget: Equatable, Sendable {
    case node
    /// The item at `index` of the list under it (put in there, when `adding`).
    case listItem(field: String, index: Int, adding: Bool)
    /// The object value of `field` of the form under it.
    case object(field: String)
}

/// A node's configuration being edited. It becomes the node only when it reads and the form
/// is applied; until then the draft is untouched. The same form edits a part of a field (an
/// item of a split's subsets, a frequency cap), which it gives back to the form it came from.
public struct NodeForm: Equatable, Sendable {
    /// Whether the form adds a new node (rather than edits one of the draft's).
    public var adding: Bool
    /// Where a new node goes once applied: after this port, or unconnected.
    public var after: PortRef?
    public var id: NodeID
    public var kind: NodeKind
    public var target: FormTarget = .node
    public var rows: [FormRow]
    public var selection = 0
    /// The selected row's text while it is being edited.
    public var editing: TextBuffer?
    /// Why the values do not make a node, or the node's validation problems.
    public var messages: [String] = []
    /// What Tab offered last in the field being typed in.
    public var completions: [String] = []
    /// The live count of the node's output while its values are edited (Build audience).
    public var count: LiveCount?
    /// The count asked for last; results of earlier requests are dropped.
    public var countRequest: Int?
    /// What that count is of.
    public var countedEntity: String?
    public var countedRule: Rule?
    /// The values when the form opened, to know whether anything changed.
    public var initial: [String]

    static let labelField = NodeField("label", hint: "the name shown on the canvas")
    static let noteField = NodeField("note", hint: "a note for the team (optional)")

    public init(node: Node) {
        adding = false
        id = node.id
        kind = node.kind
        let texts = CampaignFormat.fieldTexts(of: node)
        rows =
            [FormRow(field: Self.labelField, text: node.label), FormRow(field: Self.noteField, text: node.note ?? "")]
            + node.kind.fields.map { FormRow(field: $0, text: texts[$0.name] ?? "") }
        initial = rows.map(\.text)
    }

    /// A form for a new node of `kind`, with no values but its label.
    public init(newNode id: NodeID, kind: NodeKind, after: PortRef?) {
        adding = true
        self.after = after
        self.id = id
        self.kind = kind
        rows =
            [FormRow(field: Self.labelField, text: kind.title), FormRow(field: Self.noteField, text: "")]
            + kind.fields.map { FormRow(field: $0, text: "") }
        initial = rows.map(\.text)
    }

    /// A form for a part of a field of `parent`: `fields` with `texts`.
    public init(part target: FormTarget, of parent: NodeForm, fields: [NodeField], texts: [String: String]) {
        adding = false
        if case .listItem(_, _, let adding) = target { self.adding = adding }
        after = parent.after
        id = parent.id
        kind = parent.kind
        self.target = target
        rows = fields.map { FormRow(field: $0, text: texts[$0.name] ?? "") }
        initial = rows.map(\.text)
    }

    /// The row of the field named `name`.
    public func row(_ name: String) -> FormRow? { rows.first { $0.name == name } }

    /// Sets the text of the field named `name`.
    public mutating func set(_ name: String, to text: String) {
        if let i = rows.firstIndex(where: { $0.name == name }) { rows[i].text = text }
    }

    public var isChanged: Bool { adding || rows.map(\.text) != initial }

    /// The node the values make, or why they make none.
    public func node() -> Result<Node, HeraldError> {
        guard target == .node else { return .failure(HeraldError(.invalidInput, "a part of a field makes no node by itself")) }
        let fields = Dictionary(rows.dropFirst(2).map { ($0.name, $0.text) }, uniquingKeysWith: { a, _ in a })
        do {
            return .success(
                try CampaignFormat.node(id: id, kind: kind, label: rows[0].text, note: rows[1].text, fields: fields))
        } catch let error as HeraldError {
            return .failure(error)
        } catch {
            return .failure(HeraldError(.invalidInput, "\(error)"))
        }
    }
}

/// Choosing the node (and input port) the selected output port leads to.
public struct Connect: Equatable, Sendable {
    public var source: PortRef
    public var target: NodeID?
    public var targetPort: PortName?

    public init(source: PortRef, target: NodeID?, targetPort: PortName?) {
        self.source = source
        self.target = target
        self.targetPort = targetPort
    }
}

/// A count computed while a rule is edited.
public enum LiveCount: Equatable, Sendable {
    case counting
    case counted(Int)
    case failed(String)
}

/// The node form's message rendered for one recipient, as the store's data has it.
public struct MessagePreview: Equatable, Sendable {
    public var request: Int
    public var recipient: String
    /// The profile (and related row) it is rendered for, for a proof of it.
    public var profile = ""
    public var entity: String?
    /// nil while it is being rendered.
    public var result: Result<RenderedMessage, CountFailure>?

    public init(request: Int, recipient: String) {
        self.request = request
        self.recipient = recipient
    }
}

/// The settings of a campaign beside its graph.
public enum CampaignSetting: Equatable, Sendable {
    case description, timeZone, variables, schedule
}

/// The rule builder: a rule of the node form below it as a tree, applied to the form's field at
/// every change (so the form's live count follows).
public struct RuleBuilder: Equatable, Sendable {
    /// The tree's root (always a group).
    public var rule: Rule
    public var selection = 0
    /// The entity whose rows the rule selects.
    public var entity: String
    /// The form field it edits.
    public var field: String
    /// Where its rule goes: the form's field, or the related rows' condition of a count or
    /// any() at this path of the builder beneath.
    public var filterOf: [Int]?
    /// A distribution or the SQL, shown under the tree.
    public var panelTitle: String?
    public var panel: Result<[String], CountFailure>?
    public var request: Int?

    public init(rule: Rule, entity: String, field: String, filterOf: [Int]? = nil) {
        self.rule = RuleTree.root(rule)
        self.entity = entity
        self.field = field
        self.filterOf = filterOf
    }

    /// Whether the tree is empty (groups only, no condition).
    public var isEmpty: Bool { RuleTree.rows(rule).allSatisfy(\.isGroup) }

    public var rows: [RuleTree.Row] { RuleTree.rows(rule) }
    public var selectedRow: RuleTree.Row? { rows.indices.contains(selection) ? rows[selection] : nil }
}

/// A list field of the node form under it, item by item: each item is edited in a form of its
/// own, and every change is written through to the field at once.
public struct ListEditor: Equatable, Sendable {
    /// The list field.
    public var field: NodeField
    public var items: [JSONValue]
    public var selection = 0

    public init(field: NodeField, items: [JSONValue]) {
        self.field = field
        self.items = items
    }

    /// The fields of one item: those of its objects, or the one field of a list of values.
    public var itemFields: [NodeField] {
        switch field.structure {
        case .list(let fields): fields
        case .values(let one): [one]
        case .whole, .object: []
        }
    }

    /// Whether the items are single values rather than objects.
    public var holdsValues: Bool {
        if case .values = field.structure { true } else { false }
    }

    /// The field's text for `items`: compact JSON, empty for no items.
    public static func text(of items: [JSONValue]) -> String {
        items.isEmpty ? "" : JSONValue.array(items).compact()
    }

    /// An item in a line: its fields' values, named (a value list's item as written).
    public func summary(of item: JSONValue) -> String {
        if holdsValues, let one = itemFields.first { return CampaignFormat.text(of: item, shape: one.shape) }
        guard case .object(let pairs) = item else { return item.compact() }
        // An item's name goes first, bare: "Variant A · percent 50".
        let named = pairs.first.map { ["label", "name"].contains($0.0) } ?? false
        let rest = pairs.dropFirst(named ? 1 : 0).map { key, value in
            let shape = itemFields.first { $0.name == key }?.shape ?? .json
            return "\(key) \(CampaignFormat.text(of: value, shape: shape))"
        }
        let name = named ? pairs.first.map { CampaignFormat.text(of: $0.1, shape: .text) } : nil
        return ((name.map { [$0] } ?? []) + rest).joined(separator: " · ")
    }
}

/// A checklist of the days of the week, for the schedule prompt under it.
public struct WeekdayPicker: Equatable, Sendable {
    public var days: Set<Weekday>
    public var selection = 0

    public init(days: Set<Weekday>) { self.days = days }
}

/// A month of days for a date-time field: the day highlighted, and the time of day the value
/// keeps.
public struct CalendarPicker: Equatable, Sendable {
    /// The form field it sets.
    public var field: String
    /// The highlighted day, counted from 1970-01-01.
    public var day: Int
    /// What follows the date in the value (`T09:00`).
    public var time: String

    public init(field: String, day: Int, time: String) {
        self.field = field
        self.day = day
        self.time = time
    }
}
