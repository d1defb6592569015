#include "core/rsync_output.hpp"

#include <charconv>

#include "core/names.hpp"

namespace dailysync {

namespace {

std::string_view trim_left(std::string_view s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    return s;
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// Reads an unsigned decimal number at the start of s (commas tolerated, as printed by
// rsync without --no-h); advances s past it.
std::optional<std::uint64_t> take_number(std::string_view &s) {
    std::uint64_t value = 0;
    std::size_t i = 0;
    bool any = false;
    for (; i < s.size(); ++i) {
        char c = s[i];
        if (c >= '0' && c <= '9') {
            std::uint64_t next = value * 10 + static_cast<std::uint64_t>(c - '0');
            if (next / 10 != value) return std::nullopt;   // overflow
            value = next;
            any = true;
        } else if (c == ',' && any && i + 1 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '9') {
            continue;
        } else {
            break;
        }
    }
    if (!any) return std::nullopt;
    s.remove_prefix(i);
    return value;
}

bool take(std::string_view &s, std::string_view literal) {
    if (!starts_with(s, literal)) return false;
    s.remove_prefix(literal.size());
    return true;
}

}  // namespace

std::optional<ProgressLine> parse_progress_line(std::string_view line, std::string_view *rest) {
    if (rest) *rest = {};
    // "        3000000  99%  282.98MB/s    0:00:00 (xfr#1, to-chk=23/25)"
    std::string_view s = trim_left(line);
    ProgressLine p;
    auto bytes = take_number(s);
    if (!bytes || s.empty() || s.front() != ' ') return std::nullopt;
    p.bytes = *bytes;
    s = trim_left(s);
    auto percent = take_number(s);
    if (!percent || !take(s, "%") || *percent > 100) return std::nullopt;
    p.percent = static_cast<int>(*percent);
    s = trim_left(s);
    // rate: digits, '.', then a unit ending in "/s"
    auto slash = s.find("/s");
    if (slash == std::string_view::npos || slash > 16) return std::nullopt;
    s.remove_prefix(slash + 2);
    s = trim_left(s);
    // eta h:mm:ss (or "??:??:??" in some versions)
    auto eta_end = s.find(' ');
    std::string_view eta = s.substr(0, eta_end);
    if (eta.size() < 4 || eta.find(':') == std::string_view::npos) return std::nullopt;
    s = eta_end == std::string_view::npos ? std::string_view{} : s.substr(eta_end);
    s = trim_left(s);
    if (s.empty()) return p;
    if (!take(s, "(xfr#")) return std::nullopt;
    auto transfers = take_number(s);
    if (!transfers || !take(s, ", ")) return std::nullopt;
    p.transfers = transfers;
    if (take(s, "ir-chk=")) p.incremental = true;
    else if (!take(s, "to-chk=")) return std::nullopt;
    auto remaining = take_number(s);
    if (!remaining || !take(s, "/")) return std::nullopt;
    auto total = take_number(s);
    if (!total || !take(s, ")")) return std::nullopt;
    p.remaining = remaining;
    p.total = total;
    s = trim_left(s);
    if (rest) *rest = s;
    return p;
}

bool is_creation(const ItemLine &item) {
    return !item.deletion && item.code.size() == 11 && item.code.compare(2, 9, "+++++++++") == 0;
}

std::optional<ItemLine> parse_item_line(std::string_view line) {
    // code (11 chars), ' ', size, ' ', name
    if (line.size() < 14 || line[11] != ' ') return std::nullopt;
    ItemLine item;
    item.code = std::string(line.substr(0, 11));
    if (starts_with(line, "*deleting")) {
        item.deletion = true;
    } else {
        const char first = line[0];
        const char type = line[1];
        if (std::string_view("<>ch.*").find(first) == std::string_view::npos) return std::nullopt;
        if (std::string_view("fdLDS").find(type) == std::string_view::npos) return std::nullopt;
        item.type = type;
        item.transferred = (first == '<' || first == '>');
    }
    std::string_view s = line.substr(12);
    auto size = take_number(s);
    if (!size || !take(s, " ") || s.empty()) return std::nullopt;
    item.size = *size;
    item.name = std::string(s);
    return item;
}

std::optional<StatsLine> parse_stats_line(std::string_view line) {
    auto colon = line.find(": ");
    if (colon == std::string_view::npos || colon == 0) return std::nullopt;
    std::string_view key = line.substr(0, colon);
    if (!(starts_with(key, "Number of ") || starts_with(key, "Total ") || key == "Literal data" ||
          key == "Matched data" || key == "File list size"))
        return std::nullopt;
    std::string_view s = trim_left(line.substr(colon + 2));
    auto value = take_number(s);
    if (!value) return std::nullopt;
    return StatsLine{std::string(key), *value};
}

void RsyncStdoutParser::feed(std::string_view bytes) {
    splitter_.feed(bytes, [this](std::string_view l) { line(l); });
}

void RsyncStdoutParser::finish() {
    splitter_.finish([this](std::string_view l) { line(l); });
}

std::vector<std::string> RsyncStdoutParser::recent_transfers() const {
    std::vector<std::string> names;
    for (const auto &name : recent_transfers_) names.push_back(unescape_rsync_name(name));
    return names;
}

std::uint64_t RsyncStdoutParser::bytes_done() const {
    return counters_.bytes_up_to_date + (dry_run_ ? counters_.bytes_announced : counters_.bytes_transferred);
}

void RsyncStdoutParser::line(std::string_view text) {
    std::string_view rest;
    if (auto progress = parse_progress_line(text, &rest)) {
        counters_.bytes_transferred = std::max(counters_.bytes_transferred, progress->bytes);
        if (progress->total && !progress->incremental) counters_.rsync_total_entries = progress->total;
        if (!rest.empty()) line(rest);
        return;
    }
    if (auto item = parse_item_line(text)) {
        if (!name_prefix_.empty()) {
            if (auto below = strip_raw_prefix(item->name, name_prefix_)) item->name = below->empty() ? "./" : std::move(*below);
        }
        if (item_handler_) item_handler_(*item);
        if (item->deletion) {
            ++counters_.deletions;
            return;
        }
        ++counters_.entries_seen;
        if (item->type == 'f' && item->transferred) {
            recent_transfers_.push_back(item->name);   // unescaped only if ever needed (after a kill)
            if (recent_transfers_.size() > kRecentTransfers) recent_transfers_.pop_front();
            ++counters_.files_transferred;
            counters_.bytes_announced += item->size;
        } else if (item->type == 'f' || item->type == 'L') {
            // rsync's "Total file size" counts symlink targets too; no data flows for them.
            counters_.bytes_up_to_date += item->size;
        }
        return;
    }
    if (auto stats = parse_stats_line(text)) {
        counters_.stats[stats->key] = stats->value;
        return;
    }
    // Known chatter that carries no progress.
    if (starts_with(text, "sent ") || starts_with(text, "total size is ") || starts_with(text, "created directory ") ||
        starts_with(text, "File list ") || text.find_first_not_of(' ') == std::string_view::npos)
        return;
    ++counters_.unrecognised_lines;
}

std::string quoted_path(std::string_view line) {
    auto open = line.find('"');
    if (open == std::string_view::npos) return {};
    // rsync does not escape quotes inside the name: the name ends at the quote that is
    // followed by ':' or ' ' (`"PATH": reason`, `"PATH" failed`, `"PATH" -> "..."`).
    std::size_t close = std::string_view::npos;
    for (std::size_t i = open + 1; i < line.size(); ++i) {
        if (line[i] == '"' && (i + 1 == line.size() || line[i + 1] == ':' || line[i + 1] == ' ')) {
            close = i;
            break;
        }
    }
    if (close == std::string_view::npos) return {};
    return unescape_rsync_name(line.substr(open + 1, close - open - 1));
}

void RsyncStderrParser::feed(std::string_view bytes) {
    splitter_.feed(bytes, [this](std::string_view l) { line(l); });
}

void RsyncStderrParser::finish() {
    splitter_.finish([this](std::string_view l) { line(l); });
}

void RsyncStderrParser::line(std::string_view text) {
    if (starts_with(text, "rsync error: ") || starts_with(text, "rsync warning: ")) {
        summary_.summary = std::string(text);
        return;
    }
    constexpr std::string_view kDeletionsStopped = "Deletions stopped due to --max-delete limit (";
    if (starts_with(text, kDeletionsStopped)) {
        std::uint64_t count = 0;
        for (char c : text.substr(kDeletionsStopped.size())) {
            if (c < '0' || c > '9') break;
            count = count * 10 + static_cast<std::uint64_t>(c - '0');
        }
        summary_.deletions_skipped += count;
        return;
    }
    if (starts_with(text, "cannot delete non-empty directory: ")) return;   // its entries were held back too
    if (starts_with(text, "could not make way for new ")) {
        ++summary_.blocked_replacements;
        if (summary_.first_message.empty()) summary_.first_message = printable_name(text);
        return;
    }
    if (starts_with(text, "file has vanished: ")) {
        ++summary_.vanished_count;
        if (summary_.vanished_paths.size() < ErrorSummary::kMaxListed)
            summary_.vanished_paths.push_back(printable_name(quoted_path(text)));
        return;
    }
    // The first complaint is the cause; later ones are mostly its consequences (the
    // sender's "Broken pipe" after the receiver's "No space left on device").
    if (summary_.first_message.empty()) summary_.first_message = printable_name(text);
    if (starts_with(text, "rsync: ")) {
        std::string path = quoted_path(text);
        if (!path.empty()) {
            ++summary_.failed_count;
            if (summary_.failed_paths.size() < ErrorSummary::kMaxListed)
                summary_.failed_paths.push_back(printable_name(path));
        }
    }
}

std::string_view to_string(UnitResult result) {
    switch (result) {
    case UnitResult::success: return "success";
    case UnitResult::warning: return "warning";
    case UnitResult::partial: return "partial";
    case UnitResult::failed: return "failed";
    case UnitResult::cancelled: return "cancelled";
    }
    return "failed";
}

ExitMeaning interpret_exit_code(int code) {
    switch (code) {
    case 0: return {UnitResult::success, "success", false};
    case 1: return {UnitResult::failed, "syntax or usage error", false};
    case 2: return {UnitResult::failed, "protocol incompatibility", false};
    case 3: return {UnitResult::failed, "errors selecting input/output files, dirs", false};
    case 4: return {UnitResult::failed, "requested action not supported", false};
    case 5: return {UnitResult::failed, "error starting client-server protocol", true};
    case 6: return {UnitResult::failed, "daemon unable to append to log-file", false};
    case 10: return {UnitResult::failed, "error in socket I/O", true};
    case 11: return {UnitResult::failed, "error in file I/O", true};
    case 12: return {UnitResult::failed, "error in rsync protocol data stream", true};
    case 13: return {UnitResult::failed, "errors with program diagnostics", false};
    case 14: return {UnitResult::failed, "error in IPC code", true};
    case 20: return {UnitResult::cancelled, "received SIGUSR1 or SIGINT", false};
    case 21: return {UnitResult::failed, "some error returned by waitpid()", true};
    case 22: return {UnitResult::failed, "error allocating core memory buffers", true};
    case 23: return {UnitResult::partial, "partial transfer due to error", false};
    case 24: return {UnitResult::warning, "partial transfer due to vanished source files", false};
    case 25: return {UnitResult::failed, "the --max-delete limit stopped deletions", false};
    case 30: return {UnitResult::failed, "timeout in data send/receive", true};
    case 35: return {UnitResult::failed, "timeout waiting for daemon connection", true};
    default: return {UnitResult::failed, "unexpected exit status", true};
    }
}

}  // namespace dailysync
