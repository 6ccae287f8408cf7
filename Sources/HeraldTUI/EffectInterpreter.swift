import Foundation
import HeraldCore
import HeraldEngine
public import HeraldStore
import Synchronization

/// Carries out the reducer's effects off the UI thread and hands their results back as actions,
/// through a `Mutex`-guarded queue. It knows nothing of the terminal: the curses loop and the
/// headless session both drive it, and tests run it on a store without a terminal.
///
/// The work is SQLite's, which blocks: it runs on a concurrent dispatch queue of its own rather
/// than on Swift's cooperative pool, whose few threads a long run would otherwise hold (on two
/// cores, two runs would stall every count and load behind them).
///
/// Every effect that does work reports exactly one `effectFinished` after its results, so a
/// busy counter incremented by ``perform(_:)`` returns to zero when all is done.
public final class EffectInterpreter: Sendable {
    let store: Store
    private let results = Mutex<[Action]>([])
    /// The runs in progress, by what they run, so each can be stopped and leaving stops them all.
    private let runs = Mutex<[RunTarget: QueryCancellation]>([:])
    private static let work = DispatchQueue(label: "herald.effects", qos: .userInitiated, attributes: .concurrent)

    public init(store: Store) {
        self.store = store
    }

    /// Starts the effects' work; returns how many will report `effectFinished`. `.redraw` is
    /// the terminal's own business and is left to the caller.
    @discardableResult
    public func perform(_ effects: [Effect]) -> Int {
        var started = 0
        for effect in effects {
            guard let work = work(for: effect) else { continue }
            started += 1
            Self.work.async { [self] in
                work()
                push(.effectFinished)
            }
        }
        return started
    }

    /// The results that arrived since the last call, in order.
    public func drain() -> [Action] {
        results.withLock { actions in
            defer { actions.removeAll() }
            return actions
        }
    }

    /// Asks every run in progress to stop (each records itself as stopped).
    public func stopAll() {
        runs.withLock { runs in for run in runs.values { run.cancel() } }
    }

    /// Each scheduled campaign's next launch after `now`, in its zone, minute precision.
    static func nextLaunches(of campaigns: [CampaignSummary], in store: Store, now: Date) -> [Int64: String] {
        var launches: [Int64: String] = [:]
        // One read for all; a schedule that no longer reads shows no launch (the scheduler says why).
        let schedules = (try? store.schedules()) ?? [:]
        for campaign in campaigns {
            guard let schedule = schedules[campaign.id], let zone = schedule.zone,
                let next = schedule.launches(after: Int(now.timeIntervalSince1970), count: 1).first
            else { continue }
            let local = TemporalText.local(utcSeconds: next.utcSeconds, zone: zone)
            launches[campaign.id] = String(local.prefix(16)).replacingOccurrences(of: "T", with: " ")
        }
        return launches
    }

    func push(_ action: Action) {
        results.withLock { $0.append(action) }
    }

    /// What an effect does, or nil when it starts nothing here.
    func work(for effect: Effect) -> (@Sendable () -> Void)? {
        let store = self.store
        switch effect {
        case .redraw:
            return nil
        case .stopRun(let target):
            // The run's connection sees the flag within a millisecond, mid-statement.
            runs.withLock { $0[target]?.cancel() }
            return nil
        case .loadCampaigns:
            return { [self] in
                do {
                    let campaigns = try store.listCampaigns()
                    push(.campaignsLoaded(campaigns))
                    push(.launchesLoaded(Self.nextLaunches(of: campaigns, in: store, now: Date())))
                } catch {
                    push(.effectFailed("\(error)"))
                }
            }
        case .openCampaign(let id):
            return { [self] in
                do {
                    let stored = try store.loadCampaign(id: id)
                    push(.campaignOpened(stored))
                    // Show the latest run of this version, so counts are there on opening.
                    if let last = try store.listRuns(campaignID: id, limit: 1).first, last.version == stored.version,
                        last.state != .running
                    {
                        push(.lastRunLoaded(try store.runDetail(last.id)))
                    }
                } catch {
                    push(.effectFailed("\(error)"))
                }
            }
        case .startDryRun(let stored):
            let cancellation = QueryCancellation()
            let target = RunTarget(stored)
            runs.withLock { $0[target] = cancellation }
            return { [self] in
                defer { runs.withLock { if $0[target] === cancellation { $0[target] = nil } } }
                do {
                    // Only looking never writes: the store is opened for writing when a run starts.
                    _ = try Executor(store: try store.writable()).dryRun(
                        stored, events: { [self] event in push(.runProgressed(target, event)) },
                        isCancelled: { cancellation.isCancelled })
                } catch {
                    push(.runEnded(target, message: "\(error)"))
                }
            }
        case .refreshRun(let campaignID, let version):
            return { [self] in
                do {
                    if let last = try store.listRuns(campaignID: campaignID, limit: 1).first, last.version == version {
                        push(.runRefreshed(try store.runDetail(last.id)))
                    }
                } catch {
                    push(.effectFailed("\(error)"))
                }
            }
        }
    }
}
