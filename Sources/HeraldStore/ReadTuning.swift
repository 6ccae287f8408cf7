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
    /// Reads go through the map, so the cache holds mostly what a run writes: enough for a
    /// node's dirty pages, small enough that a run over millions of rows stays within a few
    /// tens of megabytes.
    public static let defaultCacheMB = 16

    /// The settings for the store at `path`: the map covers the file (plus growth), capped by
    /// `HERALD_MMAP_MB` (0 disables it); the cache is `HERALD_CACHE_MB`.
    public static func current(path: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> ReadTuning {
        let fileSize = ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? NSNumber)?.int64Value ?? 0
        let cap = environment["HERALD_MMAP_MB"].flatMap { Int64($0) }.map { max($0, 0) } ?? defaultMmapCapMB
        let cache = environment["HERALD_CACHE_MB"].flatMap { Int($0) }.map { max($0, 1) } ?? defaultCacheMB
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
