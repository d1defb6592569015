#include "core/config.hpp"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "core/config_fields.hpp"
#include "core/names.hpp"

namespace dailysync {

using nlohmann::json;

namespace {

// Parser callback that records the first duplicate key with its JSON pointer.
class DuplicateKeyFinder {
public:
    bool operator()(int /*depth*/, json::parse_event_t event, json &parsed) {
        switch (event) {
        case json::parse_event_t::object_start: stack_.push_back(Level{false, {}, {}, 0}); break;
        case json::parse_event_t::array_start: stack_.push_back(Level{true, {}, {}, 0}); break;
        case json::parse_event_t::key: {
            auto &top = stack_.back();
            top.current_key = parsed.get<std::string>();
            if (!top.keys.insert(top.current_key).second && !duplicate_) {
                duplicate_ = here() + "/" + pointer_token(top.current_key);
            }
            break;
        }
        case json::parse_event_t::object_end:
        case json::parse_event_t::array_end:
            stack_.pop_back();
            element_done();
            break;
        case json::parse_event_t::value: element_done(); break;
        }
        return true;
    }
    const std::optional<std::string> &duplicate() const { return duplicate_; }

private:
    struct Level {
        bool is_array;
        std::set<std::string> keys;
        std::string current_key;
        std::size_t index;
    };
    std::string here() const {
        std::string path;
        for (const auto &level : stack_) {
            if (&level == &stack_.back()) break;
            path += "/" + (level.is_array ? std::to_string(level.index) : pointer_token(level.current_key));
        }
        return path;
    }
    void element_done() {
        if (!stack_.empty() && stack_.back().is_array) ++stack_.back().index;
    }
    std::vector<Level> stack_;
    std::optional<std::string> duplicate_;
};

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t above = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

}  // namespace

std::optional<std::int64_t> parse_duration(std::string_view text) {
    if (text.size() < 2 || text.size() > 8) return std::nullopt;
    const char unit = text.back();
    const std::string_view digits = text.substr(0, text.size() - 1);
    if (digits.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
    std::int64_t value = 0;
    for (char c : digits) value = value * 10 + (c - '0');
    std::int64_t scale = 0;
    switch (unit) {
    case 's': scale = 1; break;
    case 'm': scale = 60; break;
    case 'h': scale = 3600; break;
    case 'd': scale = 86400; break;
    default: return std::nullopt;
    }
    if (value == 0 || value * scale > 365 * 86400) return std::nullopt;
    return value * scale;
}

std::string format_duration_text(std::int64_t seconds) {
    if (seconds > 0 && seconds % 86400 == 0) return std::to_string(seconds / 86400) + "d";
    if (seconds > 0 && seconds % 3600 == 0) return std::to_string(seconds / 3600) + "h";
    if (seconds > 0 && seconds % 60 == 0) return std::to_string(seconds / 60) + "m";
    return std::to_string(seconds) + "s";
}

std::string DeleteLimit::text() const {
    switch (kind) {
    case Kind::unlimited: return "unlimited";
    case Kind::count: return std::to_string(value);
    case Kind::percent: return std::to_string(value) + "%";
    }
    return "unlimited";
}

std::uint64_t DeleteLimit::allowed(std::uint64_t destination_entries) const {
    switch (kind) {
    case Kind::unlimited: return std::numeric_limits<std::uint64_t>::max();
    case Kind::count: return value;
    case Kind::percent: return destination_entries / 100 * value + destination_entries % 100 * value / 100;
    }
    return 0;
}

std::string closest_key(std::string_view name) {
    std::string best;
    std::size_t best_distance = std::string::npos;
    for (const auto &field : config_fields()) {
        std::size_t d = edit_distance(name, field.name);
        if (d < best_distance) {
            best_distance = d;
            best = field.name;
        }
    }
    // Accept a suggestion only when it is clearly related: few edits, relative to length.
    if (best_distance <= std::max<std::size_t>(2, best.size() / 3)) return best;
    return {};
}

std::string normalize_absolute_path(std::string_view path) {
    if (path.empty() || path.front() != '/') return {};
    std::string out;
    std::size_t i = 0;
    while (i < path.size()) {
        while (i < path.size() && path[i] == '/') ++i;
        std::size_t end = path.find('/', i);
        if (end == std::string_view::npos) end = path.size();
        std::string_view part = path.substr(i, end - i);
        i = end;
        if (part.empty() || part == ".") continue;
        if (part == "..") return {};
        out += '/';
        out += part;
    }
    return out.empty() ? "/" : out;
}

bool path_is_within(std::string_view inner, std::string_view outer) {
    if (outer == "/") return true;
    if (inner.size() < outer.size() || inner.substr(0, outer.size()) != outer) return false;
    return inner.size() == outer.size() || inner[outer.size()] == '/';
}

std::string Config::daily_at() const {
    char buffer[8];
    std::snprintf(buffer, sizeof buffer, "%02d:%02d", daily_hour, daily_minute);
    return buffer;
}

namespace {

// How deep arrays and objects nest, outside strings; stops counting past `limit`.
// Returns the depth reached and the line where it first exceeded the limit (0 if never).
std::pair<std::size_t, std::size_t> nesting(std::string_view text, std::size_t limit) {
    std::size_t depth = 0, deepest = 0, line = 1;
    bool in_string = false, escaped = false;
    for (char c : text) {
        if (c == '\n') ++line;
        if (in_string) {
            if (escaped) escaped = false;
            else if (c == '\\') escaped = true;
            else if (c == '"') in_string = false;
            continue;
        }
        if (c == '"') in_string = true;
        else if (c == '[' || c == '{') {
            deepest = std::max(deepest, ++depth);
            if (depth > limit) return {depth, line};
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
    }
    return {deepest, 0};
}

}  // namespace

ConfigResult parse_config(std::string_view text) {
    ConfigResult result;
    if (text.size() > kMaxConfigBytes) {
        result.error = ConfigError{"", "the file is " + std::to_string(text.size()) + " bytes; at most " + std::to_string(kMaxConfigBytes) +
                                           " are read", ""};
        return result;
    }
    if (const auto [depth, line] = nesting(text, kMaxConfigDepth); line != 0) {
        result.error = ConfigError{"", "arrays and objects nest more than " + std::to_string(kMaxConfigDepth) + " levels deep (line " +
                                           std::to_string(line) + ")", ""};
        return result;
    }
    if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
        result.error = ConfigError{"", "the file is empty; it must hold a JSON object", ""};
        return result;
    }
    DuplicateKeyFinder duplicates;
    json doc;
    try {
        doc = json::parse(text, std::ref(duplicates));
    } catch (const json::exception &e) {   // parse_error, and out_of_range for numbers like 1e999
        std::string what = e.what();
        auto bracket = what.find("] ");
        if (bracket != std::string::npos) what = what.substr(bracket + 2);
        result.error = ConfigError{"", "invalid JSON: " + what, ""};
        return result;
    }
    if (duplicates.duplicate()) {
        result.error = ConfigError{*duplicates.duplicate(), "key appears more than once", ""};
        return result;
    }
    try {
        result.config = config_from_document(doc);
    } catch (const InvalidConfig &invalid) {
        result.error = invalid.error;
    } catch (const json::exception &e) {   // a value validation did not expect; never a crash
        result.error = ConfigError{"", std::string("invalid configuration: ") + e.what(), ""};
    }
    return result;
}

std::string format_config_error(const std::string &file, const ConfigError &error) {
    std::string line = file + ": ";
    if (!error.pointer.empty()) line += error.pointer + ": ";
    line += error.message;
    if (!error.got.empty()) line += " (got " + error.got + ")";
    // One line of valid UTF-8 whatever the file held (a parser message quotes the bytes it
    // read): it goes to terminals, the journal and D-Bus, which refuses anything else.
    return printable_name(line);
}

std::string masked_url(const std::string &url) {
    const auto scheme_end = url.find("://");
    if (scheme_end == std::string::npos) return "***";
    const std::size_t host_start = scheme_end + 3;
    const std::size_t host_end = std::min(url.find_first_of("/?#", host_start), url.size());
    std::string authority = url.substr(host_start, host_end - host_start);
    // A user name may be the token itself (https://TOKEN@host): all of it goes.
    if (const auto at = authority.rfind('@'); at != std::string::npos) authority = "***" + authority.substr(at);
    const bool more = host_end < url.size() && url.substr(host_end) != "/";
    return url.substr(0, host_start) + authority + (more ? "/***" : url.substr(host_end));
}

std::string config_to_json(const Config &config, bool mask_secrets) {
    nlohmann::ordered_json doc = nlohmann::ordered_json::object();
    for (const auto &field : config_fields()) doc[field.name] = field.effective(config, mask_secrets);
    return doc.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

}  // namespace dailysync
