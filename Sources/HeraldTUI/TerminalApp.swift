import Foundation
import HeraldCore
import HeraldEngine
public import HeraldStore
import Logging
import Synchronization

/// A flag a worker thread polls to know when to end.
final class Running: Sendable {
    private let flag = Atomic<Bool>(true)
    var isRunning: Bool { flag.load(ordering: .relaxed) }
    func stop() { flag.store(false, ordering: .relaxed) }
}

/// Runs the terminal interface: the UI loop on the main thread; effects through the
/// ``EffectInterpreter``.
public enum TerminalApp {
    /// Opens the interface on `store`; returns the process exit status.
    @MainActor
    /// - Parameters:
    ///   - deliveryConfig: the delivery configuration live runs read (nil: the usual search).
    ///   - notice: a line the status bar shows first (a problem found before opening).
    public static func run(
        store: Store, themeName: String?, mouse: Bool = false, deliveryConfig: String? = nil, notice: String? = nil
    ) throws -> Int32 {
        let environment = ProcessInfo.processInfo.environment
        var theme: Theme
        do {
            theme = try Theme.load(named: themeName ?? "default")
        } catch {
            if themeName != nil { throw HeraldError(.invalidInput, "--theme: \(error)") }
            theme = .fallback
        }
        let terminal: Terminal
        do {
            terminal = try Terminal(environment: environment)
        } catch let error as TerminalError {
            throw HeraldError(.invalidInput, error.message)
        }
        defer { terminal.end() }
        if mouse { terminal.enableMouse() }
        let glyphs = terminal.unicode ? theme.glyphs : .ascii
        let logger = Logger(label: "herald.tui")
        var state = AppState(storeName: (store.path as NSString).lastPathComponent)
        state.width = terminal.width
        state.height = terminal.height
        state.theme = theme.name
        state.themeNames = Theme.available()
        if let notice { state.status = notice }
        var glyphSet = glyphs

        // The frame on the terminal, to diff the next one against (nil repaints everything).
        var lastFrame: CellGrid?
        // The loop sleeps until a key or a result arrives: workers wake it through this pipe.
        guard let wakeup = Wakeup() else { throw HeraldError(.io, "the interface could not create its wake-up pipe") }
        // Signals wake the loop too; no longer once the pipe is about to close.
        signalWakeFD.store(wakeup.writeEnd, ordering: .relaxed)
        defer {
            signalWakeFD.store(-1, ordering: .relaxed)
            withExtendedLifetime(wakeup) {}
        }
        let interpreter = EffectInterpreter(store: store, wake: { wakeup.signal() }, deliveryConfig: deliveryConfig)

        func execute(_ effects: [Effect]) {
            if effects.contains(.redraw) {
                terminal.invalidate()
                lastFrame = nil
            }
            state.busy += interpreter.perform(effects)
        }

        /// Leaving while runs are in flight stops each, and waits for the engine to record it as
        /// stopped (within a millisecond or so of the flag) rather than leave it marked running.
        /// There is no give-up timeout: while it waits the screen says so, and Q or Ctrl-C again
        /// leaves at once, the runs left as they are for `herald runs resume` to continue.
        func stopRunBeforeLeaving() {
            guard !state.runsInFlight.isEmpty else { return }
            interpreter.stopAll()
            let signalBefore = pendingSignal.load(ordering: .relaxed)
            while !state.runsInFlight.isEmpty {
                for action in interpreter.drain() { _ = Reducer.reduce(&state, action) }
                if state.runsInFlight.isEmpty { break }
                state.status =
                    "stopping \(Names.counted(state.runsInFlight.count, "run"))… (Q again leaves now; herald runs resume continues them)"
                let frame = AppView.render(state, glyphs: glyphSet)
                if frame != lastFrame {
                    terminal.present(frame, theme: theme)
                    lastFrame = frame
                }
                if let key = terminal.readKey(timeoutMS: 0) {
                    if key == .char("Q") || key == .ctrl("c") || key == .char("q") { break }
                    continue
                }
                // A second signal leaves too.
                let signal = pendingSignal.load(ordering: .relaxed)
                if signal != 0 && signal != signalBefore { break }
                wakeup.wait()
            }
        }

        execute([.loadCampaigns])
        // Other processes' commits (a run in another terminal, the scheduler) show up within a
        // second: a thread of its own polls the store's data_version, which changes only then.
        let watching = Running()
        defer { watching.stop() }
        if let watcher = try? store.changeWatcher(), let first = try? watcher.version() {
            Thread.detachNewThread {
                var seen = first
                while watching.isRunning {
                    Thread.sleep(forTimeInterval: 0.5)
                    guard let now = try? watcher.version(), now != seen else { continue }
                    seen = now
                    // Pushing wakes the loop.
                    interpreter.push(.storeChanged)
                }
            }
        }
        while !state.quit {
            let signal = pendingSignal.load(ordering: .relaxed)
            if signal != 0 {
                logger.info("stopping on signal \(signal)")
                stopRunBeforeLeaving()
                // A node form left open keeps what was typed in it, with the draft.
                if let draft = NodeFormScreen.draftWithOpenForm(state) { execute([.keepDraft(draft)]) }
                // The last edit's draft is in the store before the process goes.
                interpreter.finishWrites()
                return 128 + signal
            }
            var effects: [Effect] = []
            for action in interpreter.drain() { effects += Reducer.reduce(&state, action) }
            execute(effects)
            // The theme picker changes the theme in the state; the terminal follows.
            if state.theme != theme.name {
                do {
                    theme = try Theme.load(named: state.theme)
                    glyphSet = terminal.unicode ? theme.glyphs : .ascii
                    terminal.invalidate()
                    lastFrame = nil
                } catch {
                    state.status = "theme \(state.theme): \(error)"
                    state.theme = theme.name
                }
            }
            let frame = AppView.render(state, glyphs: glyphSet)
            if frame != lastFrame {
                terminal.present(frame, theme: theme)
                lastFrame = frame
            }
            // Keys ncurses has read ahead first; then sleep until a key, a result or a signal.
            guard let key = terminal.readKey(timeoutMS: 0) else {
                wakeup.wait()
                continue
            }
            if key == .resize {
                execute(Reducer.reduce(&state, .resized(width: terminal.width, height: terminal.height)))
                lastFrame = nil
                continue
            }
            execute(Reducer.reduce(&state, .keyPressed(key)))
        }
        stopRunBeforeLeaving()
        interpreter.finishWrites()
        return 0
    }
}
