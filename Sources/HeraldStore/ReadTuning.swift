public import Foundation

/// How connections that run generated SQL read the file: memory-mapped I/O sized to the file
/// (a sequential pass over millions of rows otherwise spends most of its time in `pread`), a
/// larger page cache, and temporary B-trees in memory. Durability is unaffected: these change
/// how pages are read, not how commits are written.
public struct ReadTuning: Sendable, Equatable {
    /// Bytes SQLite may map; 0 turns memory-mapped I/O off.
    public var mmapBytes: Int64
    /// Page cache in KiB.
    public var cacheKiB: Int
    public var tempStoreInMemory: Bool

    /// Mapped bytes at most, unless `HERALD_MMAP_MB` says otherwise.
    public static let defaultMmapCapMB: Int64 = 16_384
    /// Reads go through the map, so the cache of a connection that answers audience queries
    /// holds little besides what its statements build.
    public static let defaultCacheMB = 16
    /// A run's connection: its cache holds the pages a node writes (the ledger copy's), and its
    /// sorters (SQLite bounds each by the cache size) sort whole populations, two at once in a
    /// channel node's gates. 8 MB keeps a run over a million profiles at the memory of one over
    /// a hundred thousand (docs/benchmarks.md, delivery), at the same speed.
    public static let defaultWorkCacheMB = 8

    /// What a connection is for: its default cache size.
    public enum Purpose: Sendable { case reads, work }

    /// The settings for the store at `path`: the map covers the file (plus growth), capped by
    /// `HERALD_MMAP_MB` (0 disables it); the cache is `HERALD_CACHE_MB`, or the purpose's default.
    public static func current(
        path: String, purpose: Purpose = .reads, environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> ReadTuning {
        let fileSize = ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? NSNumber)?.int64Value ?? 0
        let cap = environment["HERALD_MMAP_MB"].flatMap { Int64($0) }.map { max($0, 0) } ?? defaultMmapCapMB
        let fallback = purpose == .work ? defaultWorkCacheMB : defaultCacheMB
        let cache = environment["HERALD_CACHE_MB"].flatMap { Int($0) }.map { max($0, 1) } ?? fallback
        // Room for the file to grow while the connection is open (imports, work tables).
        let wanted = fileSize + fileSize / 4 + 64 * 1024 * 1024
        return ReadTuning(mmapBytes: min(wanted, cap * 1024 * 1024), cacheKiB: cache * 1024, tempStoreInMemory: true)
    }

    public var pragmas: [String] {
        [
            "PRAGMA mmap_size = \(mmapBytes)", "PRAGMA cache_size = -\(cacheKiB)",
            "PRAGMA temp_store = \(tempStoreInMemory ? "MEMORY" : "DEFAULT")",
        ]
    }

    /// One line for `audience explain`.
    public var summary: String {
        let mapped = mmapBytes == 0 ? "off" : "\(mmapBytes / (1024 * 1024)) MiB"
        return
            "memory-mapped I/O \(mapped), page cache \(cacheKiB / 1024) MiB, temporary storage \(tempStoreInMemory ? "in memory" : "default")"
    }
}
