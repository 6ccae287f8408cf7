import Foundation
import HeraldCore

/// A value distribution as text bars, one line per bucket: the label, the count, its share and
/// a bar scaled to the largest bucket. The command line and the rule builder both draw it.
public enum BarChart {
    /// `buckets` as lines: labels cut to `labelLimit` cells, bars at most `barWidth` cells.
    public static func lines(_ buckets: [(label: String, count: Int)], labelLimit: Int = 30, barWidth: Int = 40) -> [String] {
        let total = max(1, buckets.reduce(0) { $0 + $1.count })
        let top = max(1, buckets.map(\.count).max() ?? 1)
        let labels = buckets.map { bucket in
            DisplayWidth.truncate(String(bucket.label.map { $0 == "\n" || $0 == "\r" ? " " : $0 }), to: labelLimit)
        }
        let labelWidth = labels.map { DisplayWidth.of($0) }.max() ?? 0
        return zip(labels, buckets).map { label, bucket in
            let count = Names.groupedCount(bucket.count)
            let bar = String(repeating: "█", count: Int((Double(bucket.count) / Double(top) * Double(barWidth)).rounded()))
            let percent = String(format: "%5.1f%%", Double(bucket.count) * 100 / Double(total))
            return DisplayWidth.pad(label, to: labelWidth) + "  " + String(repeating: " ", count: max(0, 10 - count.count)) + count
                + "  " + percent + "  " + bar
        }
    }
}
