#include "core/config.hpp"

#include "core/names.hpp"


#include <algorithm>
#include <cstdio>
#include <limits>
#include <array>
#include <nlohmann/json.hpp>
#include <set>

namespace dailysync {

using nlohmann::json;

namespace {


struct Invalid {
    ConfigError error;
};

std::string value_text(const json &value) {
    std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
    if (text.size() > 80) text = text.substr(0, 77) + "...";
    return text;
}

[[noreturn]] void fail(const std::string &pointer, const std::string &message, const json *value = nullptr) {
    throw Invalid{ConfigError{pointer, message, value ? value_text(*value) : std::string{}}};
}

// RFC 6901 escaping of one reference token.
std::string pointer_token(const std::string &key) {
    std::string out;
    for (char c : key) {
        if (c == '~') out += "~0";
        else if (c == '/') out += "~1";
        else out += c;
    }
    return out;
}

std::string pointer_of(const std::string &key) { return "/" + pointer_token(key); }

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

const json &require_string(const json &value, const std::string &pointer) {
    if (!value.is_string()) fail(pointer, "must be a string", &value);
    return value;
}

bool require_bool(const json &value, const std::string &pointer) {
    if (!value.is_boolean()) fail(pointer, "must be true or false", &value);
    return value.get<bool>();
}

int require_int(const json &value, const std::string &pointer, long long low, long long high) {
    if (!value.is_number_integer()) fail(pointer, "must be a whole number from " + std::to_string(low) + " to " + std::to_string(high), &value);
    if (value.is_number_unsigned()) {
        auto v = value.get<unsigned long long>();
        if (v > static_cast<unsigned long long>(high) || static_cast<long long>(v) < low) fail(pointer, "must be from " + std::to_string(low) + " to " + std::to_string(high), &value);
        return static_cast<int>(v);
    }
    auto v = value.get<long long>();
    if (v < low || v > high) fail(pointer, "must be from " + std::to_string(low) + " to " + std::to_string(high), &value);
    return static_cast<int>(v);
}

std::string require_absolute_path(const json &value, const std::string &pointer) {
    const auto &text = require_string(value, pointer).get_ref<const std::string &>();
    if (text.empty()) fail(pointer, "must not be empty", &value);
    if (text.find('\0') != std::string::npos) fail(pointer, "must not contain NUL bytes", &value);
    if (text.front() != '/') fail(pointer, "must be an absolute path (start with /)", &value);
    std::string normalized = normalize_absolute_path(text);
    if (normalized.empty()) fail(pointer, "must not contain '..' components", &value);
    return normalized;
}

std::vector<std::string> require_string_array(const json &value, const std::string &pointer) {
    if (!value.is_array()) fail(pointer, "must be an array of strings", &value);
    std::vector<std::string> out;
    for (std::size_t i = 0; i < value.size(); ++i) {
        const std::string item_pointer = pointer + "/" + std::to_string(i);
        const auto &item = require_string(value[i], item_pointer).get_ref<const std::string &>();
        if (item.empty()) fail(item_pointer, "must not be empty", &value[i]);
        if (item.find_first_of(std::string("\n\r\0", 3)) != std::string::npos)
            fail(item_pointer, "must not contain newline, carriage return or NUL", &value[i]);
        out.push_back(item);
    }
    return out;
}

// The rsync options an admin may add. Each changes how files are compared or sent, or how
// their attributes are mapped at the destination; none changes what is deleted, which
// files are read, where anything is written, or what rsync prints (which dailysyncd
// parses). An allow-list, because a deny-list cannot keep up: rsync accepts old aliases
// (--remove-sent-files), any unambiguous abbreviation (--remove-s), bundled short options
// (-avR) and grows new options with each release. So only these exact spellings pass.
struct AllowedOption {
    std::string_view name;
    bool takes_value;   // then only as --name=VALUE, never as a separate argument
};
constexpr AllowedOption kAllowedOptions[] = {
    {"--bwlimit", true},        {"--timeout", true},        {"--numeric-ids", false},
    {"--chmod", true},          {"--chown", true},          {"--usermap", true},       {"--groupmap", true},
    {"--iconv", true},          {"--no-iconv", false},      {"--modify-window", true}, {"--checksum", false},
    {"--ignore-times", false},  {"--whole-file", false},    {"--no-whole-file", false}, {"--block-size", true},
    {"--omit-dir-times", false}, {"--omit-link-times", false}, {"--open-noatime", false}, {"--fsync", false},
    {"--preallocate", false},   {"--no-owner", false},      {"--no-group", false},     {"--fake-super", false},
};
// Of those with a value, the ones whose value is a number (rsync's suffixes allowed).
constexpr std::string_view kNumericOptions[] = {"--bwlimit", "--timeout", "--modify-window", "--block-size"};

std::string allowed_options_text() {
    std::string text;
    for (const auto &option : kAllowedOptions) text += (text.empty() ? "" : ", ") + std::string(option.name) + (option.takes_value ? "=..." : "");
    return text;
}

// rsync's own ways of keeping old files. Per unit they lose versions (each rsync's
// transfer root flattens the paths: the old b/x overwrites the old a/x); "versions" keeps
// them with their whole path. Named here so the error says where to look.
constexpr std::string_view kVersioningOptions[] = {"--backup", "--backup-dir", "--suffix", "--link-dest", "--compare-dest",
                                                   "--copy-dest", "-b"};

void check_extra_arg(const std::string &arg, const std::string &pointer, const json &value) {
    const std::string option = arg.substr(0, arg.find('='));
    if (std::find(std::begin(kVersioningOptions), std::end(kVersioningOptions), option) != std::end(kVersioningOptions))
        fail(pointer, option + " would keep old files per rsync, flattening their paths: use the \"versions\" key instead (see dailysyncd.json(5))",
             &value);
    if (arg.rfind("--", 0) != 0 || arg.size() < 3)
        fail(pointer, "must be one long rsync option such as \"--bwlimit=50000\" (short options are not accepted)", &value);
    const auto equals = arg.find('=');
    const std::string name = arg.substr(0, equals);
    for (const auto &option : kAllowedOptions) {
        if (name != option.name) continue;
        if (option.takes_value && (equals == std::string::npos || equals + 1 == arg.size()))
            fail(pointer, "needs its value in the same string: \"" + name + "=VALUE\"", &value);
        if (!option.takes_value && equals != std::string::npos) fail(pointer, "takes no value", &value);
        if (option.takes_value) {
            const std::string_view given = std::string_view(arg).substr(equals + 1);
            // One value, never a second option smuggled in after a space.
            if (given.find_first_of(" \t") != std::string_view::npos || given.front() == '-')
                fail(pointer, "has a value with a space or a leading '-': one option, one value", &value);
            const bool numeric = std::find(std::begin(kNumericOptions), std::end(kNumericOptions), name) != std::end(kNumericOptions);
            const auto digits = given.find_first_not_of("0123456789.");
            if (numeric && (digits == 0 || (digits != std::string_view::npos && given.substr(digits).find_first_not_of("bBkKmMgGtTpPiI") !=
                                                                                     std::string_view::npos)))
                fail(pointer, "needs a number, as in \"" + name + "=1000\" (rsync's K, M, G suffixes allowed)", &value);
            // A wide window makes a file changed within it, of the same size, look
            // unchanged: it would never be copied. FAT's 2-second times need 2 at most.
            if (name == "--modify-window" && given != "0" && given != "1" && given != "2")
                fail(pointer, "is at most 2 seconds (what a FAT destination's 2-second times need): a wider window makes a file "
                              "changed within it, with the same size, look unchanged, so it would never be copied",
                     &value);
        }
        return;
    }
    fail(pointer, "is not an option dailysyncd passes on (only the exact spellings " + allowed_options_text() + "; see dailysyncd.json(5))",
         &value);
}

// max_delete, max_change: a count, "N%" or "unlimited".
DeleteLimit require_limit(const json &value, const std::string &pointer, const std::string &percent_of) {
    const std::string expected = "must be a count (e.g. 1000), " + percent_of + " (e.g. \"10%\") or \"unlimited\"";
    if (value.is_number_integer())
        return {DeleteLimit::Kind::count, static_cast<std::uint64_t>(require_int(value, pointer, 0, 2'000'000'000))};
    if (!value.is_string()) fail(pointer, expected, &value);
    const std::string &text = value.get_ref<const std::string &>();
    if (text == "unlimited") return {DeleteLimit::Kind::unlimited, 0};
    if (text.size() < 2 || text.size() > 4 || text.back() != '%' || text.find_first_not_of("0123456789") != text.size() - 1)
        fail(pointer, expected, &value);
    const auto percent = std::stoul(text.substr(0, text.size() - 1));
    if (percent > 100) fail(pointer, "a percentage must be from 0% to 100%", &value);
    return {DeleteLimit::Kind::percent, percent};
}

// "hooks": {"before_run": [["cmd", "arg"], ...], "after_run": ..., "on_failure": ...,
// "timeout_seconds": 600, "before_run_failure": "fail" | "warn"}.
Hooks require_hooks(const json &value) {
    if (!value.is_object())
        fail("/hooks", "must be an object such as {\"before_run\": [[\"/usr/local/sbin/snapshot-prod\", \"create\"]]}", &value);
    Hooks hooks;
    const std::pair<const char *, std::vector<std::vector<std::string>> *> lists[] = {
        {"before_run", &hooks.before_run}, {"after_run", &hooks.after_run}, {"on_failure", &hooks.on_failure}};
    for (const auto &[key, item] : value.items()) {
        const std::string pointer = "/hooks" + pointer_of(key);
        if (key == "timeout_seconds") {
            hooks.timeout_seconds = require_int(item, pointer, 1, 86400);
            continue;
        }
        if (key == "before_run_failure") {
            const std::string &policy = require_string(item, pointer).get_ref<const std::string &>();
            if (policy != "fail" && policy != "warn") fail(pointer, "must be \"fail\" (the run fails, nothing is copied) or \"warn\"", &item);
            hooks.before_run_must_pass = policy == "fail";
            continue;
        }
        std::vector<std::vector<std::string>> *target = nullptr;
        for (const auto &[name, field] : lists)
            if (key == name) target = field;
        if (!target)
            fail(pointer, "unknown key (known: before_run, after_run, on_failure, timeout_seconds, before_run_failure)", &item);
        if (!item.is_array()) fail(pointer, "must be a list of commands, each a list of strings: [[\"logger\", \"backup done\"]]", &item);
        for (std::size_t i = 0; i < item.size(); ++i) {
            const std::string command_pointer = pointer + "/" + std::to_string(i);
            if (item[i].is_string())
                fail(command_pointer, "must be a command as a list of strings (no shell runs it): [\"program\", \"argument\", ...]", &item[i]);
            auto argv = require_string_array(item[i], command_pointer);
            if (argv.empty()) fail(command_pointer, "must name a program: [\"program\", \"argument\", ...]", &item[i]);
            target->push_back(std::move(argv));
        }
    }
    return hooks;
}

// An http(s) URL without spaces or control characters (libcurl takes the rest).
std::string require_url(const json &value, const std::string &pointer) {
    const std::string &url = require_string(value, pointer).get_ref<const std::string &>();
    const bool scheme = url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0;
    const bool clean = std::none_of(url.begin(), url.end(), [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; });
    // The value is not quoted back: such URLs are secrets, and errors reach the journal.
    if (!scheme || !clean || url.size() < 10)
        fail(pointer, "must be an http:// or https:// URL without spaces, e.g. \"https://hc-ping.com/UUID\"");
    return url;
}

// "alerts": {"unit": true, "webhook_url": "https://...", "webhook_failure_url": "https://...",
// "stale_after": "36h", "webhook_timeout_seconds": 30}.
Alerts require_alerts(const json &value) {
    if (!value.is_object()) fail("/alerts", "must be an object such as {\"webhook_url\": \"https://hc-ping.com/UUID\", \"stale_after\": \"36h\"}", &value);
    Alerts alerts;
    for (const auto &[key, item] : value.items()) {
        const std::string pointer = "/alerts" + pointer_of(key);
        if (key == "unit") alerts.systemd_unit = require_bool(item, pointer);
        else if (key == "webhook_url") alerts.webhook_url = item.is_null() ? std::string() : require_url(item, pointer);
        else if (key == "webhook_failure_url") alerts.webhook_failure_url = item.is_null() ? std::string() : require_url(item, pointer);
        else if (key == "webhook_timeout_seconds") alerts.webhook_timeout_seconds = require_int(item, pointer, 1, 300);
        else if (key == "stale_after") {
            const std::string &text = require_string(item, pointer).get_ref<const std::string &>();
            const auto seconds = text == "off" ? std::optional<std::int64_t>(0) : parse_duration(text);
            if (!seconds || (*seconds != 0 && *seconds < 1))
                fail(pointer, "must be a duration such as \"36h\", \"90m\", \"2d\" or \"45s\" (at most 365d), or \"off\"", &item);
            alerts.stale_after_seconds = *seconds;
        } else {
            fail(pointer, "unknown key (known: unit, webhook_url, webhook_failure_url, webhook_timeout_seconds, stale_after)", &item);
        }
    }
    if (!alerts.webhook_failure_url.empty() && alerts.webhook_url.empty())
        fail("/alerts/webhook_failure_url", "needs webhook_url too (where successful runs are reported)");
    return alerts;
}

// "bwlimit": "20M", or {"08:00-19:00": "20M", "19:00-08:00": "off"}.
BandwidthSchedule require_bwlimit(const json &value) {
    const std::string rate_help = "a rate such as \"20M\" (MiB/s), \"500K\", \"1G\", or \"off\"";
    auto rate = [&](const json &item, const std::string &pointer) {
        const ParsedRate parsed = item.is_string() ? parse_rate(item.get_ref<const std::string &>()) : ParsedRate{};
        if (!parsed.ok) fail(pointer, "must be " + rate_help, &item);
        return parsed.bytes_per_second;
    };
    BandwidthSchedule schedule;
    if (!value.is_object()) {
        if (!value.is_string())
            fail("/bwlimit", "must be " + rate_help + ", or a timetable such as {\"08:00-19:00\": \"20M\", \"19:00-08:00\": \"off\"}", &value);
        schedule.always = rate(value, "/bwlimit");
        return schedule;
    }
    for (const auto &[key, item] : value.items()) {
        const std::string pointer = "/bwlimit" + pointer_of(key);
        auto window = parse_window(key);
        if (!window) fail(pointer, "must be a time range \"HH:MM-HH:MM\" (local time; may pass midnight)", &item);
        window->bytes_per_second = rate(item, pointer);
        for (const auto &other : schedule.windows)
            for (int minute = 0; minute < 1440; ++minute)
                if (other.contains(minute) && window->contains(minute)) fail(pointer, "overlaps another time range of the timetable", &item);
        schedule.windows.push_back(*window);
    }
    if (schedule.windows.empty()) fail("/bwlimit", "a timetable needs at least one time range", &value);
    return schedule;
}

Config validate(const json &doc) {
    if (!doc.is_object()) fail("", "the configuration must be a JSON object", &doc);
    for (const auto &[key, value] : doc.items()) {
        const auto &keys = config_keys();
        if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
            std::string suggestion = closest_key(key);
            fail(pointer_of(key), suggestion.empty() ? "unknown key" : "unknown key (did you mean \"" + suggestion + "\"?)", &value);
        }
    }
    for (const char *required : {"source", "destination"}) {
        if (!doc.contains(required)) fail("/" + std::string(required), "is required but missing");
    }

    Config config;
    config.source = require_absolute_path(doc["source"], "/source");
    config.destination = require_absolute_path(doc["destination"], "/destination");
    if (config.source == "/") fail("/source", "must not be the root directory", &doc["source"]);
    if (config.destination == "/") fail("/destination", "must not be the root directory", &doc["destination"]);
    if (path_is_within(config.destination, config.source))
        fail("/destination", "must not be the source or inside it (" + config.source + ")", &doc["destination"]);
    if (path_is_within(config.source, config.destination))
        fail("/destination", "must not contain the source (" + config.source + ")", &doc["destination"]);

    if (doc.contains("daily_at")) {
        const auto &value = doc["daily_at"];
        const auto &text = require_string(value, "/daily_at").get_ref<const std::string &>();
        auto digit = [&](std::size_t i) { return text[i] >= '0' && text[i] <= '9'; };
        if (text.size() != 5 || text[2] != ':' || !digit(0) || !digit(1) || !digit(3) || !digit(4))
            fail("/daily_at", "must be a local time written HH:MM, e.g. \"02:00\"", &value);
        config.daily_hour = (text[0] - '0') * 10 + (text[1] - '0');
        config.daily_minute = (text[3] - '0') * 10 + (text[4] - '0');
        if (config.daily_hour > 23) fail("/daily_at", "hour must be from 00 to 23", &value);
        if (config.daily_minute > 59) fail("/daily_at", "minute must be from 00 to 59", &value);
    }
    if (doc.contains("concurrency")) {
        const auto &value = doc["concurrency"];
        if (value.is_string()) {
            if (value.get<std::string>() != "auto") fail("/concurrency", "must be \"auto\" or a whole number from 1 to 256", &value);
        } else if (!value.is_number_integer()) {
            fail("/concurrency", "must be \"auto\" or a whole number from 1 to 256", &value);
        } else {
            config.concurrency = require_int(value, "/concurrency", 1, 256);
        }
    }
    if (doc.contains("delete")) config.delete_extraneous = require_bool(doc["delete"], "/delete");
    if (doc.contains("state_dir")) {
        config.state_dir = require_absolute_path(doc["state_dir"], "/state_dir");
        if (config.state_dir == "/") fail("/state_dir", "must not be the root directory", &doc["state_dir"]);
    }
    {
        // The default state folder obeys the same rules: a destination of /var/lib/dailysyncd
        // would otherwise hold the daemon's own state and delete it on the first mirror run.
        const json *given = doc.contains("state_dir") ? &doc["state_dir"] : nullptr;
        const std::string which = given ? "" : " (the default, " + config.state_dir + "; set state_dir elsewhere)";
        if (path_is_within(config.state_dir, config.destination))
            fail("/state_dir", "must not be inside the destination (a mirror run would delete it)" + which, given);
        if (path_is_within(config.state_dir, config.source) || path_is_within(config.source, config.state_dir))
            fail("/state_dir", "must not be inside the source or hold it (dailysyncd would write into the tree it backs up)" + which,
                 given);
    }
    if (doc.contains("exclude")) {
        config.exclude = require_string_array(doc["exclude"], "/exclude");
        for (std::size_t i = 0; i < config.exclude.size(); ++i) {
            if (config.exclude[i].find_first_not_of('/') == std::string::npos)
                fail("/exclude/" + std::to_string(i), "names no file: a pattern anchored at the source's top needs a name after '/'",
                     &doc["exclude"][i]);
            // rsync reads an --exclude value with the old rule prefixes: "!" clears every
            // rule before it, "+ x" makes an include rule, "- x" an exclude rule. None of
            // them is a pattern, and an include could override the protect rule.
            const std::string &pattern = config.exclude[i];
            if (pattern == "!")
                fail("/exclude/" + std::to_string(i), "is rsync's \"clear every rule before this one\", not a pattern; remove it",
                     &doc["exclude"][i]);
            if (pattern.rfind("+ ", 0) == 0 || pattern.rfind("- ", 0) == 0)
                fail("/exclude/" + std::to_string(i),
                     "starts with \"" + pattern.substr(0, 2) + "\", which rsync reads as a rule, not a pattern; only patterns to exclude are accepted",
                     &doc["exclude"][i]);
        }
    }
    if (doc.contains("rsync_path")) {
        const auto &value = doc["rsync_path"];
        config.rsync_path = require_string(value, "/rsync_path").get<std::string>();
        if (config.rsync_path.empty()) fail("/rsync_path", "must not be empty", &value);
        if (config.rsync_path.find('/') != std::string::npos && config.rsync_path.front() != '/')
            fail("/rsync_path", "must be an absolute path or a plain program name looked up in PATH", &value);
    }
    if (doc.contains("rsync_extra_args")) {
        config.rsync_extra_args = require_string_array(doc["rsync_extra_args"], "/rsync_extra_args");
        for (std::size_t i = 0; i < config.rsync_extra_args.size(); ++i)
            check_extra_arg(config.rsync_extra_args[i], "/rsync_extra_args/" + std::to_string(i), doc["rsync_extra_args"][i]);
    }
    if (doc.contains("retries")) config.retries = require_int(doc["retries"], "/retries", 0, 10);
    if (doc.contains("retry_delay_seconds"))
        config.retry_delay_seconds = require_int(doc["retry_delay_seconds"], "/retry_delay_seconds", 0, 3600);
    if (doc.contains("stall_timeout_seconds"))
        config.stall_timeout_seconds = require_int(doc["stall_timeout_seconds"], "/stall_timeout_seconds", 0, 86400);
    if (doc.contains("cancel_grace_seconds"))
        config.cancel_grace_seconds = require_int(doc["cancel_grace_seconds"], "/cancel_grace_seconds", 1, 300);
    if (doc.contains("filesystem_timeout_seconds"))
        config.filesystem_timeout_seconds = require_int(doc["filesystem_timeout_seconds"], "/filesystem_timeout_seconds", 2, 3600);
    if (doc.contains("history_keep_runs"))
        config.history_keep_runs = require_int(doc["history_keep_runs"], "/history_keep_runs", 1, 100000);
    if (doc.contains("history_keep_days"))
        config.history_keep_days = require_int(doc["history_keep_days"], "/history_keep_days", 1, 36500);
    if (doc.contains("metrics_file") && !doc["metrics_file"].is_null()) {
        config.metrics_file = require_absolute_path(doc["metrics_file"], "/metrics_file");
        if (path_is_within(config.metrics_file, config.destination))
            fail("/metrics_file", "must not be inside the destination", &doc["metrics_file"]);
        if (path_is_within(config.metrics_file, config.source))
            fail("/metrics_file", "must not be inside the source (dailysyncd never writes there)", &doc["metrics_file"]);
    }
    if (doc.contains("max_delete"))
        config.max_delete = require_limit(doc["max_delete"], "/max_delete", "a percentage of the destination");
    if (doc.contains("max_change"))
        config.max_change = require_limit(doc["max_change"], "/max_change", "a percentage of the source's entries");
    if (doc.contains("require_mountpoint")) {
        const auto &value = doc["require_mountpoint"];
        const auto which = require_string_array(value, "/require_mountpoint");
        for (std::size_t i = 0; i < which.size(); ++i) {
            if (which[i] == "source") config.source_must_be_mountpoint = true;
            else if (which[i] == "destination") config.destination_must_be_mountpoint = true;
            else fail("/require_mountpoint/" + std::to_string(i), "must be \"source\" or \"destination\"", &value[i]);
        }
    }
    if (doc.contains("source_sentinel") && !doc["source_sentinel"].is_null()) {
        const auto &value = doc["source_sentinel"];
        const std::string &text = require_string(value, "/source_sentinel").get_ref<const std::string &>();
        const std::string normalized = normalize_absolute_path("/" + text);
        if (text.empty() || text.front() == '/' || normalized.empty() || normalized == "/")
            fail("/source_sentinel", "must be a path relative to the source, without \"..\", e.g. \".dailysync-source\"", &value);
        config.source_sentinel = normalized.substr(1);
    }
    if (doc.contains("preserve")) {
        const auto &value = doc["preserve"];
        if (!value.is_object()) fail("/preserve", "must be an object such as {\"hard_links\": true}", &value);
        const std::pair<const char *, bool *> keys[] = {{"hard_links", &config.preserve.hard_links},
                                                        {"acls", &config.preserve.acls},
                                                        {"xattrs", &config.preserve.xattrs},
                                                        {"sparse", &config.preserve.sparse}};
        for (const auto &[key, item] : value.items()) {
            bool *target = nullptr;
            for (const auto &[name, field] : keys)
                if (key == name) target = field;
            if (!target) fail("/preserve" + pointer_of(key), "unknown key (known: hard_links, acls, xattrs, sparse)", &item);
            *target = require_bool(item, "/preserve" + pointer_of(key));
        }
    }
    if (doc.contains("versions") && !doc["versions"].is_null()) {
        const auto &value = doc["versions"];
        if (!value.is_object())
            fail("/versions", "must be an object such as {\"keep_daily\": 14, \"keep_weekly\": 8, \"keep_monthly\": 12}, or null", &value);
        VersionsPolicy policy;
        const std::pair<const char *, int *> keys[] = {{"keep_daily", &policy.keep_daily},
                                                       {"keep_weekly", &policy.keep_weekly},
                                                       {"keep_monthly", &policy.keep_monthly},
                                                       {"keep_last", &policy.keep_last}};
        for (const auto &[key, item] : value.items()) {
            const std::string pointer = "/versions" + pointer_of(key);
            if (key == "keep_within") {
                if (item.is_null()) continue;
                const std::string &text = require_string(item, pointer).get_ref<const std::string &>();
                const auto seconds = parse_duration(text);
                if (!seconds || *seconds < 1)
                    fail(pointer, "must be a duration such as \"2d\", \"36h\" or \"90m\" (at most 365d), or null", &item);
                policy.keep_within_seconds = *seconds;
                continue;
            }
            int *target = nullptr;
            for (const auto &[name, field] : keys)
                if (key == name) target = field;
            if (!target) fail(pointer, "unknown key (known: keep_daily, keep_weekly, keep_monthly, keep_last, keep_within)", &item);
            *target = require_int(item, pointer, 0, 100000);
        }
        if (policy.keep_daily + policy.keep_weekly + policy.keep_monthly + policy.keep_last == 0 && policy.keep_within_seconds == 0)
            fail("/versions",
                 "keeps nothing: give keep_daily, keep_weekly, keep_monthly or keep_last a count above 0, or keep_within a duration "
                 "(or set versions to null)",
                 &value);
        config.versions = policy;
    }
    if (doc.contains("hooks")) config.hooks = require_hooks(doc["hooks"]);
    if (doc.contains("alerts")) config.alerts = require_alerts(doc["alerts"]);
    if (doc.contains("scan_threads")) {
        const auto &value = doc["scan_threads"];
        if (value.is_string() && value.get<std::string>() == "auto") config.scan_threads.reset();
        else if (value.is_number_integer()) config.scan_threads = require_int(value, "/scan_threads", 1, 64);
        else fail("/scan_threads", "must be \"auto\" or a whole number from 1 to 64", &value);
    }
    if (doc.contains("daily_compare")) {
        const auto &value = doc["daily_compare"];
        const std::string text = value.is_string() ? value.get<std::string>() : std::string();
        if (text == "daemon") config.daemon_compares = true;
        else if (text == "rsync") config.daemon_compares = false;
        else fail("/daily_compare", "must be \"rsync\" (each rsync compares its part) or \"daemon\" (the daemon compares both trees, rsync copies what differs)", &value);
    }
    if (doc.contains("bwlimit") && !doc["bwlimit"].is_null()) {
        config.bwlimit = require_bwlimit(doc["bwlimit"]);
        for (std::size_t i = 0; i < config.rsync_extra_args.size(); ++i)
            if (config.rsync_extra_args[i].rfind("--bwlimit=", 0) == 0)
                fail("/rsync_extra_args/" + std::to_string(i), "limits each rsync while bwlimit limits the whole run: keep one of them",
                     &doc["rsync_extra_args"][i]);
    }
    if (doc.contains("verify") && !doc["verify"].is_null()) {
        const auto &value = doc["verify"];
        if (!value.is_object()) fail("/verify", "must be an object such as {\"every_days\": 7}, or null", &value);
        for (const auto &[key, item] : value.items()) {
            if (key != "every_days") fail("/verify" + pointer_of(key), "unknown key (known: every_days)", &item);
            config.verify_every_days = require_int(item, "/verify/every_days", 1, 366);
        }
        if (config.verify_every_days == 0) fail("/verify", "needs every_days: the period in which the whole backup is checked once", &value);
    }
    return config;
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

const std::vector<std::string> &config_keys() {
    static const std::vector<std::string> keys = {
        "source", "destination", "daily_at", "concurrency", "delete", "state_dir", "exclude",
        "rsync_path", "rsync_extra_args", "retries", "retry_delay_seconds", "stall_timeout_seconds",
        "cancel_grace_seconds", "filesystem_timeout_seconds", "history_keep_runs", "history_keep_days", "metrics_file",
        "max_delete", "max_change", "require_mountpoint", "source_sentinel", "preserve", "versions", "hooks", "alerts", "verify", "bwlimit", "scan_threads", "daily_compare"};
    return keys;
}

std::string closest_key(std::string_view name) {
    std::string best;
    std::size_t best_distance = std::string::npos;
    for (const auto &key : config_keys()) {
        std::size_t d = edit_distance(name, key);
        if (d < best_distance) {
            best_distance = d;
            best = key;
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
        result.config = validate(doc);
    } catch (const Invalid &invalid) {
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
    auto url = [mask_secrets](const std::string &u) { return u.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(mask_secrets ? masked_url(u) : u); };
    nlohmann::ordered_json doc = nlohmann::ordered_json::object();
    doc["source"] = config.source;
    doc["destination"] = config.destination;
    doc["daily_at"] = config.daily_at();
    if (config.concurrency) doc["concurrency"] = *config.concurrency;
    else doc["concurrency"] = "auto";
    doc["delete"] = config.delete_extraneous;
    doc["state_dir"] = config.state_dir;
    doc["exclude"] = config.exclude;
    doc["rsync_path"] = config.rsync_path;
    doc["rsync_extra_args"] = config.rsync_extra_args;
    doc["retries"] = config.retries;
    doc["retry_delay_seconds"] = config.retry_delay_seconds;
    doc["stall_timeout_seconds"] = config.stall_timeout_seconds;
    doc["cancel_grace_seconds"] = config.cancel_grace_seconds;
    doc["filesystem_timeout_seconds"] = config.filesystem_timeout_seconds;
    doc["history_keep_runs"] = config.history_keep_runs;
    doc["history_keep_days"] = config.history_keep_days;
    if (config.metrics_file.empty()) doc["metrics_file"] = nullptr;
    else doc["metrics_file"] = config.metrics_file;
    if (config.max_delete.kind == DeleteLimit::Kind::count) doc["max_delete"] = config.max_delete.value;
    else doc["max_delete"] = config.max_delete.text();
    if (config.max_change.kind == DeleteLimit::Kind::count) doc["max_change"] = config.max_change.value;
    else doc["max_change"] = config.max_change.text();
    doc["require_mountpoint"] = nlohmann::ordered_json::array();
    if (config.source_must_be_mountpoint) doc["require_mountpoint"].push_back("source");
    if (config.destination_must_be_mountpoint) doc["require_mountpoint"].push_back("destination");
    if (config.source_sentinel.empty()) doc["source_sentinel"] = nullptr;
    else doc["source_sentinel"] = config.source_sentinel;
    doc["preserve"] = {{"hard_links", config.preserve.hard_links},
                       {"acls", config.preserve.acls},
                       {"xattrs", config.preserve.xattrs},
                       {"sparse", config.preserve.sparse}};
    if (config.versions)
        doc["versions"] = {{"keep_daily", config.versions->keep_daily},
                           {"keep_weekly", config.versions->keep_weekly},
                           {"keep_monthly", config.versions->keep_monthly},
                           {"keep_last", config.versions->keep_last},
                           {"keep_within", config.versions->keep_within_seconds == 0
                                               ? nlohmann::ordered_json()
                                               : nlohmann::ordered_json(format_duration_text(config.versions->keep_within_seconds))}};
    else doc["versions"] = nullptr;
    doc["hooks"] = {{"before_run", config.hooks.before_run},
                    {"after_run", config.hooks.after_run},
                    {"on_failure", config.hooks.on_failure},
                    {"timeout_seconds", config.hooks.timeout_seconds},
                    {"before_run_failure", config.hooks.before_run_must_pass ? "fail" : "warn"}};
    doc["alerts"] = {{"unit", config.alerts.systemd_unit},
                     {"webhook_url", url(config.alerts.webhook_url)},
                     {"webhook_failure_url", url(config.alerts.webhook_failure_url)},
                     {"webhook_timeout_seconds", config.alerts.webhook_timeout_seconds},
                     {"stale_after", config.alerts.stale_after_seconds == 0 ? std::string("off") : format_duration_text(config.alerts.stale_after_seconds)}};
    if (config.verify_every_days > 0) doc["verify"] = {{"every_days", config.verify_every_days}};
    else doc["verify"] = nullptr;
    if (config.scan_threads) doc["scan_threads"] = *config.scan_threads;
    else doc["scan_threads"] = "auto";
    doc["daily_compare"] = config.daemon_compares ? "daemon" : "rsync";
    if (!config.bwlimit) doc["bwlimit"] = nullptr;
    else if (config.bwlimit->windows.empty()) doc["bwlimit"] = rate_text(config.bwlimit->always);
    else {
        auto clock = [](int minute) {
            char text[16];
            std::snprintf(text, sizeof text, "%02d:%02d", minute / 60, minute % 60);
            return std::string(text);
        };
        doc["bwlimit"] = nlohmann::ordered_json::object();
        for (const auto &w : config.bwlimit->windows)
            doc["bwlimit"][clock(w.start_minute) + "-" + clock(w.end_minute)] = rate_text(w.bytes_per_second);
    }
    return doc.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

}  // namespace dailysync
