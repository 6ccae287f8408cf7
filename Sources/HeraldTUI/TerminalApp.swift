import Foundation
import HeraldCore
import HeraldEngine
public import HeraldStore
import Logging
import Synchronization

/// Results of effects, handed from worker threads to the UI thread.
final class ActionQueue: @unchecked Sendable {
    private let lock = NSLock()
    private var actions: [Action] = []

    func push(_ action: Action) {
        lock.lock()
        actions.append(action)
        lock.unlock()
    }

    func drain() -> [Action] {
        lock.lock()
        defer { lock.unlock() }
        let out = actions
        actions.removeAll()
        return out
    }
}

/// A flag a worker thread polls to know when to end.
final class Running: Sendable {
    private let flag = Atomic<Bool>(true)
    var isRunning: Bool { flag.load(ordering: .relaxed) }
    func stop() { flag.store(false, ordering: .relaxed) }
}

/// Runs the terminal interface: the UI loop on the main thread, effects on worker threads.
public enum TerminalApp {
    /// Opens the interface on `store`; returns the process exit status.
    @MainActor
    public static func run(store: Store, themeName: String?) throws -> Int32 {
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
        let glyphs = terminal.unicode ? theme.glyphs : .ascii
        let logger = Logger(label: "herald.tui")
        let queue = ActionQueue()
        var state = AppState(storeName: (store.path as NSString).lastPathComponent)
        state.width = terminal.width
        state.height = terminal.height

        // The frame on the terminal, to diff the next one against (nil repaints everything).
        var lastFrame: CellGrid?
        // The runs in progress, by what they run, so `x` can stop each and leaving stops them all.
        var runs: [RunTarget: QueryCancellation] = [:]

        func execute(_ effects: [Effect]) {
            for effect in effects {
                if effect == .redraw {
                    terminal.invalidate()
                    lastFrame = nil
                    continue
                }
                if case .stopRun(let target) = effect {
                    // The run's connection sees the flag within a millisecond, mid-statement.
                    runs[target]?.cancel()
                    continue
                }
                state.busy += 1
                let work: @Sendable () -> Void
                switch effect {
                case .loadCampaigns:
                    work = {
                        do { queue.push(.campaignsLoaded(try store.listCampaigns())) } catch { queue.push(.effectFailed("\(error)")) }
                    }
                case .openCampaign(let id):
                    work = {
                        do {
                            let stored = try store.loadCampaign(id: id)
                            queue.push(.campaignOpened(stored))
                            // Show the latest run of this version, so counts are there on opening.
                            if let last = try store.listRuns(campaignID: id, limit: 1).first, last.version == stored.version,
                                last.state != .running
                            {
                                queue.push(.lastRunLoaded(try store.runDetail(last.id)))
                            }
                        } catch {
                            queue.push(.effectFailed("\(error)"))
                        }
                    }
                case .startDryRun(let stored):
                    let cancellation = QueryCancellation()
                    let target = RunTarget(stored)
                    runs[target] = cancellation
                    work = {
                        do {
                            // Only looking never writes: the store is opened for writing when a run starts.
                            _ = try Executor(store: try store.writable()).dryRun(
                                stored, events: { event in queue.push(.runProgressed(target, event)) },
                                isCancelled: { cancellation.isCancelled })
                        } catch {
                            queue.push(.runEnded(target, message: "\(error)"))
                        }
                    }
                case .refreshRun(let campaignID, let version):
                    work = {
                        do {
                            if let last = try store.listRuns(campaignID: campaignID, limit: 1).first, last.version == version {
                                queue.push(.runRefreshed(try store.runDetail(last.id)))
                            }
                        } catch {
                            queue.push(.effectFailed("\(error)"))
                        }
                    }
                case .stopRun, .redraw:
                    continue  // handled above: no work to start
                }
                // Every effect ends with exactly one effectFinished, so busy returns to zero.
                Thread.detachNewThread {
                    work()
                    queue.push(.effectFinished)
                }
            }
        }

        /// Leaving while a dry run is in flight stops it, and waits (briefly) for the engine to
        /// record it as stopped rather than leave it marked running.
        func stopRunBeforeLeaving() {
            guard !state.runsInFlight.isEmpty else { return }
            for target in state.runsInFlight { runs[target]?.cancel() }
            let deadline = Date().addingTimeInterval(5)
            while !state.runsInFlight.isEmpty && Date() < deadline {
                for action in queue.drain() { _ = Reducer.reduce(&state, action) }
                Thread.sleep(forTimeInterval: 0.02)
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
                    queue.push(.storeChanged)
                }
            }
        }
        while !state.quit {
            let signal = pendingSignal.load(ordering: .relaxed)
            if signal != 0 {
                logger.info("stopping on signal \(signal)")
                stopRunBeforeLeaving()
                return 128 + signal
            }
            var effects: [Effect] = []
            for action in queue.drain() { effects += Reducer.reduce(&state, action) }
            execute(effects)
            let frame = AppView.render(state, glyphs: glyphs)
            if frame != lastFrame {
                terminal.present(frame, theme: theme)
                lastFrame = frame
            }
            // Poll quickly while work is in flight so counts appear promptly; idle otherwise.
            guard let key = terminal.readKey(timeoutMS: state.busy > 0 ? 50 : 250) else { continue }
            if key == .resize {
                execute(Reducer.reduce(&state, .resized(width: terminal.width, height: terminal.height)))
                lastFrame = nil
                continue
            }
            execute(Reducer.reduce(&state, .keyPressed(key)))
        }
        stopRunBeforeLeaving()
        return 0
    }
}
