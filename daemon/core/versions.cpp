#include "core/versions.hpp"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>

#include "core/names.hpp"

namespace dailysync {

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
std::int64_t days_from_civil(const CivilDate &d) {
    const int y = d.year - (d.month <= 2 ? 1 : 0);
    const int era = (y >= 0 ? y : y - 399) / 400;
    const int yoe = y - era * 400;
    const int mp = (d.month + 9) % 12;
    const int doy = (153 * mp + 2) / 5 + d.day - 1;
    const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return static_cast<std::int64_t>(era) * 146097 + doe - 719468;
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0); }

std::int64_t day_key(const CivilDate &d) { return days_from_civil(d); }
// ISO weeks start on Monday; 1970-01-01 was a Thursday.
std::int64_t week_key(const CivilDate &d) { return floor_div(days_from_civil(d) + 3, 7); }
std::int64_t month_key(const CivilDate &d) { return static_cast<std::int64_t>(d.year) * 12 + d.month; }

std::optional<CivilDate> parse_date(std::string_view text) {
    if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
    for (std::size_t i : {0u, 1u, 2u, 3u, 5u, 6u, 8u, 9u})
        if (text[i] < '0' || text[i] > '9') return std::nullopt;
    auto number = [&](std::size_t from, std::size_t n) {
        int v = 0;
        for (std::size_t i = from; i < from + n; ++i) v = v * 10 + (text[i] - '0');
        return v;
    };
    CivilDate d{number(0, 4), number(5, 2), number(8, 2)};
    if (d.month < 1 || d.month > 12 || d.day < 1 || d.day > 31) return std::nullopt;
    return d;
}

std::string date_text(const CivilDate &d) {
    char buffer[16];
    std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02d", d.year, d.month, d.day);
    return buffer;
}

}  // namespace

std::string start_point_id(const std::string &run_id) { return "start-of-" + run_id; }

std::string point_json(const VersionPoint &point) {
    nlohmann::ordered_json doc;
    doc["id"] = point.id;
    doc["at"] = point.at;
    doc["result"] = point.result;
    doc["chain_start"] = point.chain_start;
    return doc.dump() + "\n";
}

std::optional<VersionPoint> parse_point(std::string_view text) {
    const auto doc = nlohmann::json::parse(text, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) return std::nullopt;
    const auto id = doc.find("id"), at = doc.find("at"), result = doc.find("result"), chain = doc.find("chain_start");
    if (id == doc.end() || !id->is_string() || id->get_ref<const std::string &>().empty()) return std::nullopt;
    if (at == doc.end() || !at->is_number_integer() || result == doc.end() || !result->is_string()) return std::nullopt;
    if (chain != doc.end() && !chain->is_boolean()) return std::nullopt;
    return VersionPoint{id->get<std::string>(), at->get<std::int64_t>(), result->get<std::string>(),
                        chain != doc.end() && chain->get<bool>()};
}

std::string point_kind(const VersionPoint &point) {
    if (point.result == "start") return "start";
    if (point.result == "success" || point.result == "warning") return "complete";
    return "partial";
}

std::vector<std::string> versions_to_prune(const std::vector<DatedPoint> &points, const VersionsPolicy &policy) {
    if (points.empty()) return {};
    std::vector<bool> keep(points.size(), false);
    keep.back() = true;   // the run in progress, or the newest state kept
    auto select = [&](int count, std::int64_t (*key)(const CivilDate &)) {
        std::optional<std::int64_t> last;
        for (std::size_t i = points.size(); i-- > 0 && count > 0;) {
            const std::int64_t k = key(points[i].date);
            if (last && *last == k) continue;
            last = k;
            keep[i] = true;   // the newest point of its period
            --count;
        }
    };
    select(policy.keep_daily, day_key);
    select(policy.keep_weekly, week_key);
    select(policy.keep_monthly, month_key);
    // The newest keep_last, whatever their days (a manual run after a mistake keeps its
    // point when the night's run comes), and all within keep_within of the newest.
    for (std::size_t i = points.size(), n = 0; i-- > 0 && n < static_cast<std::size_t>(policy.keep_last); ++n) keep[i] = true;
    if (policy.keep_within_seconds > 0)
        for (std::size_t i = 0; i < points.size(); ++i)
            if (points.back().point.at - points[i].point.at < policy.keep_within_seconds) keep[i] = true;
    std::vector<std::string> pruned;
    for (std::size_t i = 0; i < points.size(); ++i)
        if (!keep[i]) pruned.push_back(points[i].point.id);
    return pruned;
}

namespace {
// A run id as dailysyncd makes them: YYYYMMDDTHHMMSSZ, maybe with "-N" after it.
bool looks_like_run_id(std::string_view text) {
    if (text.size() < 16 || text[8] != 'T' || text[15] != 'Z') return false;
    for (std::size_t i = 0; i < 15; ++i)
        if (i != 8 && (text[i] < '0' || text[i] > '9')) return false;
    const std::string_view rest = text.substr(16);
    return rest.empty() || (rest.size() > 1 && rest[0] == '-' && rest.find_first_not_of("0123456789", 1) == std::string_view::npos);
}
}  // namespace

PointChoice choose_point(const std::vector<DatedPoint> &points, std::string_view at) {
    if (points.empty()) return {std::nullopt, "no versions are kept yet (versions start with the first run after \"versions\" is set)"};
    for (std::size_t i = 0; i < points.size(); ++i)
        if (points[i].point.id == at) return {i, {}};
    const auto date = parse_date(at);
    if (!date && looks_like_run_id(at)) {
        // A run whose version retention has merged away: its kept neighbours (ids sort by time).
        std::optional<std::size_t> before, after;
        for (std::size_t i = 0; i < points.size(); ++i) {
            if (points[i].point.id < at) before = i;
            else if (!after) after = i;
        }
        std::string error = "version " + std::string(at) + " is no longer kept (retention merged it into the version before it)";
        auto named = [&](std::size_t i) { return points[i].point.id + " (" + date_text(points[i].date) + ")"; };
        if (before) error += ": the newest kept before it is " + named(*before) + ", restored with --at " + points[*before].point.id;
        if (after) error += std::string(before ? "; " : ": ") + "the next kept after it is " + named(*after);
        return {std::nullopt, error + " (see: dailysyncctl versions)"};
    }
    if (!date)
        return {std::nullopt, "\"" + std::string(at) + "\" is neither a version (see: dailysyncctl versions) nor a date YYYY-MM-DD"};
    std::optional<std::size_t> found;
    for (std::size_t i = 0; i < points.size(); ++i)
        if (points[i].date <= *date) found = i;
    if (!found)
        return {std::nullopt, "no version at or before " + std::string(at) + ": the oldest kept is " + points.front().point.id + " (" +
                                  date_text(points.front().date) + ")"};
    return {found, {}};
}

Layers restore_layers(const std::vector<VersionPoint> &points, std::size_t index) {
    Layers layers;
    for (std::size_t i = index; i < points.size(); ++i) {
        if (i > index && points[i].chain_start) {
            layers.error = "the backup at " + points[index].id + " cannot be put together exactly: versions were not kept between " +
                           points[i - 1].id + " and " + points[i].id + " (its files are under " + std::string(kVersionsFolder) + "/" +
                           points[index].id + "/back)";
            layers.points.clear();
            return layers;
        }
        layers.points.push_back(i);
    }
    return layers;
}

std::optional<std::tuple<std::string, int, int>> point_id_order(const std::string &id) {
    const std::string prefix = start_point_id("");
    const bool start = id.rfind(prefix, 0) == 0;
    const std::string run = start ? id.substr(prefix.size()) : id;
    // YYYYMMDDTHHMMSSZ (which orders as text), then nothing or "-N" (N >= 2).
    if (run.size() < 16 || run[8] != 'T' || run[15] != 'Z') return std::nullopt;
    for (std::size_t i : {0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14})
        if (run[i] < '0' || run[i] > '9') return std::nullopt;
    if (run.size() == 16) return std::make_tuple(run, 1, start ? 0 : 1);
    if (run[16] != '-' || run.size() > 26 || run.find_first_not_of("0123456789", 17) != std::string::npos || run.size() == 17)
        return std::nullopt;
    return std::make_tuple(run.substr(0, 16), std::stoi(run.substr(17)), start ? 0 : 1);
}

ChainBreak chain_break_for(const std::vector<VersionPoint> &points, const std::string &damaged_id) {
    ChainBreak out;
    const auto t = point_id_order(damaged_id);
    if (!t) {
        if (!points.empty()) out.restart = points.size() - 1;
        out.gap = true;
        return out;
    }
    for (std::size_t i = 0; i < points.size(); ++i) {
        const auto ti = point_id_order(points[i].id);
        if (!ti || *ti > *t) {
            out.restart = i;
            return out;
        }
    }
    out.gap = true;
    return out;
}

bool RestoreView::claim(const std::string &path, Kind kind, int layer) {
    return claims_.emplace(path, Claim{kind, layer}).second;
}

std::optional<RestoreView::Claim> RestoreView::find(const std::string &path) const {
    const auto it = claims_.find(path);
    if (it == claims_.end()) return std::nullopt;
    return it->second;
}

bool RestoreView::descend(const std::string &path) const {
    const auto claim = find(path);
    return !claim || claim->kind == Kind::folder;
}

bool RestoreView::is_present(const std::string &path) const {
    if (path.empty()) return true;
    const auto claim = find(path);
    if (!claim || claim->kind == Kind::absent) return false;
    for (const auto &ancestor : ancestors_of(path))
        if (const auto c = find(ancestor); c && c->kind != Kind::folder) return false;
    return true;
}

std::vector<std::pair<std::string, RestoreView::Claim>> RestoreView::present() const {
    std::vector<std::pair<std::string, Claim>> out;
    for (const auto &[path, claim] : claims_)
        if (is_present(path)) out.emplace_back(path, claim);
    return out;
}

std::optional<std::string> source_relative(const Config &config, const std::string &path) {
    if (path.empty() || path == "." || path == "/" || path == config.source) return std::string();
    const std::string absolute = normalize_absolute_path(path.front() == '/' ? path : config.source + "/" + path);
    if (absolute.empty() || !path_is_within(absolute, config.source)) return std::nullopt;
    return absolute == config.source ? std::string() : absolute.substr(config.source.size() + 1);
}

std::vector<std::string> ancestors_of(const std::string &path) {
    std::vector<std::string> out;
    for (std::size_t slash = path.find('/'); slash != std::string::npos; slash = path.find('/', slash + 1))
        out.push_back(path.substr(0, slash));
    return out;
}

std::string versions_name_in_source(const std::string &source) {
    return "the source holds " + printable_name(source + "/" + std::string(kVersionsFolder)) +
           ", which is not backed up: that name at the top is the version store's (rename it to have it copied)";
}

}  // namespace dailysync
