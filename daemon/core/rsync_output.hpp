// rsync output -> structured progress, and rsync exit codes -> meaning.
//
// dailysyncd runs rsync with `-ii --no-h --info=progress2,stats2 --outbuf=L
// --out-format='%i %l %n'` (see rsync_command.hpp). Its stdout then carries, interleaved:
//   item lines      ".f          1234 dir/name"   (11-character %i code, size, name)
//   progress lines  "   1234  12%  3.4MB/s  0:00:01 (xfr#2, to-chk=5/27)", ended by '\r'
//   a stats block   "Number of files: 27 (reg: 22, dir: 4, link: 1)" ...
// A progress line can be followed by the next item line without any separator.
// Pure: bytes in, counters out.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dailysync {

// Splits a byte stream into lines at '\r' and '\n'; empty lines are dropped. A partial
// line longer than max_line is cut there (the remainder becomes the next line).
class LineSplitter {
public:
    explicit LineSplitter(std::size_t max_line = 64 * 1024) : max_line_(max_line) {}

    template <class OnLine>
    void feed(std::string_view bytes, OnLine &&on_line) {
        for (char c : bytes) {
            if (c == '\n' || c == '\r') {
                emit(on_line);
            } else {
                partial_ += c;
                if (partial_.size() >= max_line_) emit(on_line);
            }
        }
    }
    // End of stream: a trailing partial line (truncated output) is still delivered.
    template <class OnLine>
    void finish(OnLine &&on_line) {
        emit(on_line);
    }

private:
    template <class OnLine>
    void emit(OnLine &on_line) {
        if (!partial_.empty()) on_line(std::string_view(partial_));
        partial_.clear();
    }
    std::size_t max_line_;
    std::string partial_;
};

struct ProgressLine {
    std::uint64_t bytes = 0;              // bytes transferred so far in this rsync
    int percent = 0;
    std::optional<std::uint64_t> transfers;   // xfr#N
    std::optional<std::uint64_t> remaining;   // to-chk=R/T (or ir-chk)
    std::optional<std::uint64_t> total;
    bool incremental = false;                 // ir-chk: the total is still growing
};

// Parses a progress line. When the line continues after the closing ")" (the next item
// line glued on), *rest receives that remainder.
std::optional<ProgressLine> parse_progress_line(std::string_view line, std::string_view *rest = nullptr);

struct ItemLine {
    std::string code;      // the 11-character %i code ("*deleting  " for deletions)
    std::uint64_t size = 0;
    std::string name;      // as rsync printed it (control bytes escaped as \#ooo)
    bool deletion = false;
    bool transferred = false;   // data is sent for it ('<' or '>' in the first column)
    char type = '?';            // f, d, L, D, S (or '?' for deletions)
};
std::optional<ItemLine> parse_item_line(std::string_view line);
// True for an itemized line of an entry rsync created (">f+++++++++", "cd+++++++++"...).
bool is_creation(const ItemLine &item);

struct StatsLine {
    std::string key;        // e.g. "Number of files", "Total file size"
    std::uint64_t value = 0;
};
std::optional<StatsLine> parse_stats_line(std::string_view line);

// What one rsync's stdout amounts to so far.
struct TransferCounters {
    std::uint64_t entries_seen = 0;        // item lines other than deletions
    std::uint64_t files_transferred = 0;   // regular files whose data is (to be) sent
    std::uint64_t deletions = 0;
    std::uint64_t bytes_up_to_date = 0;    // sizes of files whose data is not sent, and of symlinks
    std::uint64_t bytes_announced = 0;     // sizes of regular files whose data is sent
    std::uint64_t bytes_transferred = 0;   // progress2 byte count
    std::optional<std::uint64_t> rsync_total_entries;   // from to-chk (final once not incremental)
    std::map<std::string, std::uint64_t> stats;
    std::uint64_t unrecognised_lines = 0;
};

class RsyncStdoutParser {
public:
    // `name_prefix` (raw): taken off the front of every item's name (rsync_name_prefix);
    // a name that is the prefix itself, the unit's folder, becomes "./".
    explicit RsyncStdoutParser(bool dry_run = false, std::string name_prefix = {})
        : dry_run_(dry_run), name_prefix_(std::move(name_prefix)) {}
    // Also hands every item line (deletions included) to `handler`.
    void on_item(std::function<void(const ItemLine &)> handler) { item_handler_ = std::move(handler); }
    void feed(std::string_view bytes);
    void finish();
    const TransferCounters &counters() const { return counters_; }
    // Bytes of the tree covered so far: up-to-date files plus data sent (a dry run sends
    // none, so there the announced sizes count as covered).
    std::uint64_t bytes_done() const;
    // The files whose data rsync sent most recently, oldest first, at most kRecentTransfers
    // (raw names, relative to the unit's destination folder). rsync's receiver works some
    // files behind its sender, so when rsync is killed the temporary file ".NAME.XXXXXX"
    // of any of them may be left beside it.
    static constexpr std::size_t kRecentTransfers = 256;
    std::vector<std::string> recent_transfers() const;

private:
    void line(std::string_view text);
    bool dry_run_;
    std::string name_prefix_;
    std::function<void(const ItemLine &)> item_handler_;
    LineSplitter splitter_;
    TransferCounters counters_;
    std::deque<std::string> recent_transfers_;   // escaped as rsync printed them
};

// What rsync's stderr says about failures.
struct ErrorSummary {
    static constexpr std::size_t kMaxListed = 100;
    std::vector<std::string> failed_paths;    // printable, at most kMaxListed
    std::uint64_t failed_count = 0;
    std::vector<std::string> vanished_paths;  // printable, at most kMaxListed
    std::uint64_t vanished_count = 0;
    std::uint64_t deletions_skipped = 0;      // "Deletions stopped due to --max-delete limit (N skipped)"
    std::uint64_t blocked_replacements = 0;   // "could not make way for new ...": a deletion held back
    std::string first_message;                // first specific complaint ("rsync: ..."): the cause
    std::string summary;                      // rsync's closing "rsync error: ..." line
};

class RsyncStderrParser {
public:
    void feed(std::string_view bytes);
    void finish();
    const ErrorSummary &summary() const { return summary_; }

private:
    void line(std::string_view text);
    LineSplitter splitter_;
    ErrorSummary summary_;
};

// The path quoted in an rsync complaint (`... "PATH" failed: ...`), unescaped; "" if none.
std::string quoted_path(std::string_view line);

enum class UnitResult { success, warning, partial, failed, cancelled };
std::string_view to_string(UnitResult result);

struct ExitMeaning {
    UnitResult result;
    std::string_view description;   // rsync(1)'s wording
    bool transient;                 // worth retrying
};
ExitMeaning interpret_exit_code(int code);

}  // namespace dailysync
