/// The one error type Herald's modules throw.
///
/// `code` says which kind of failure it is (and so which exit status the CLI uses);
/// `message` is written for the user and names what failed and what to do; `cause`
/// keeps the underlying error for logs and debugging.
public struct HeraldError: Error, CustomStringConvertible, Sendable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        enum Kind: String, Sendable {
            case invalidInput, notFound, validation, storeUnreadable, storeTooNew, storeTooOld, conflict
            case notImplemented, cancelled, io, internalFailure, runFailed, leaseLost
        }
        let kind: Kind

        /// The user gave a bad argument, file, rule or value.
        public static let invalidInput = Code(kind: .invalidInput)
        /// A named campaign, entity, audience or file does not exist.
        public static let notFound = Code(kind: .notFound)
        /// A campaign or configuration failed validation.
        public static let validation = Code(kind: .validation)
        /// The store file is not SQLite, is corrupt, or cannot be opened.
        public static let storeUnreadable = Code(kind: .storeUnreadable)
        /// The store was written by a newer Herald.
        public static let storeTooNew = Code(kind: .storeTooNew)
        /// The store needs an upgrade before this command can read it.
        public static let storeTooOld = Code(kind: .storeTooOld)
        /// The change would overwrite or break existing data.
        public static let conflict = Code(kind: .conflict)
        /// The capability exists in the design but is not built yet.
        public static let notImplemented = Code(kind: .notImplemented)
        /// The work was cancelled by the user.
        public static let cancelled = Code(kind: .cancelled)
        /// Reading or writing a file failed.
        public static let io = Code(kind: .io)
        /// A bug in Herald.
        public static let internalFailure = Code(kind: .internalFailure)
        /// A run failed while working (a node's statement failed); what it did is kept.
        public static let runFailed = Code(kind: .runFailed)
        /// Another executor took a run over: this one stops and writes nothing more.
        public static let leaseLost = Code(kind: .leaseLost)

        public var description: String { kind.rawValue }
    }

    public var code: Code
    public var message: String
    public var cause: (any Error)?

    public init(_ code: Code, _ message: String, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String { message }

    /// Exit status for the CLI: 2 for bad input or a refused operation (nothing was written),
    /// 1 for a failure while working (a file that could not be written, a failed run, a bug).
    public var exitStatus: Int32 {
        code == .internalFailure || code == .io || code == .runFailed || code == .leaseLost ? 1 : 2
    }
}
