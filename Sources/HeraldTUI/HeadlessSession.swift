public import Foundation
public import HeraldStore

/// The interface without a terminal: keys in, screen text out. It runs the same reducer, views
/// and effect interpreter as the terminal, and waits on the busy/idle counter instead of
/// sleeping, so tests and benchmarks can drive it and read what a person would see.
public final class HeadlessSession {
    public private(set) var state: AppState
    let interpreter: EffectInterpreter

    /// A session on `store`, `width`×`height` cells; the campaign list starts loading. Live
    /// runs read `deliveryConfig` (nil: the usual search).
    public init(store: Store, width: Int = 80, height: Int = 24, deliveryConfig: String? = nil) {
        state = AppState(storeName: (store.path as NSString).lastPathComponent)
        state.width = width
        state.height = height
        interpreter = EffectInterpreter(store: store, deliveryConfig: deliveryConfig)
        run([.loadCampaigns])
    }

    func run(_ effects: [Effect]) {
        state.busy += interpreter.perform(effects)
    }

    /// Presses `keys` in order, each reduced (and its effects started) before the next.
    public func press(_ keys: Key...) {
        for key in keys {
            absorb()
            run(Reducer.reduce(&state, .keyPressed(key)))
        }
    }

    /// Types `text`, one character key at a time (a newline presses Enter).
    public func type(_ text: String) {
        for c in text { press(c == "\n" ? .enter : .char(c)) }
    }

    /// Reduces the results that have arrived.
    func absorb() {
        for action in interpreter.drain() { run(Reducer.reduce(&state, action)) }
    }

    /// Waits until every effect has reported back and been reduced; false after `timeout`.
    @discardableResult
    public func waitUntilIdle(timeout: TimeInterval = 30) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            absorb()
            if state.busy == 0 { return true }
            Thread.sleep(forTimeInterval: 0.002)
        }
        return false
    }

    /// Resizes the screen, as a terminal resize would.
    public func resize(width: Int, height: Int) {
        run(Reducer.reduce(&state, .resized(width: width, height: height)))
    }

    /// The screen as text, in `glyphs`.
    public func screen(glyphs: GlyphSet = .rounded) -> String {
        AppView.render(state, glyphs: glyphs).text
    }

    /// Stops every run in progress and waits for them to record it.
    public func close() {
        interpreter.stopAll()
        waitUntilIdle()
    }
}
