#include "core/config_fields.hpp"

#include <algorithm>
#include <cstdio>

#include "core/bandwidth.hpp"

namespace dailysync {

using nlohmann::json;
using nlohmann::ordered_json;

std::string pointer_token(const std::string &key) {
    std::string out;
    for (char c : key) {
        if (c == '~') out += "~0";
        else if (c == '/') out += "~1";
        else out += c;
    }
    return out;
}

namespace {

std::string value_text(const json &value) {
    std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
    if (text.size() > 80) text = text.substr(0, 77) + "...";
    return text;
}

[[noreturn]] void fail(const std::string &pointer, const std::string &message, const json *value = nullptr) {
    throw InvalidConfig{ConfigError{pointer, message, value ? value_text(*value) : std::string{}}};
}

std::string pointer_of(const std::string &key) { return "/" + pointer_token(key); }

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
Hooks require_hooks(const json &value, const std::string &pointer) {
    if (!value.is_object())
        fail(pointer, "must be an object such as {\"before_run\": [[\"/usr/local/sbin/snapshot-prod\", \"create\"]]}", &value);
    Hooks hooks;
    const std::pair<const char *, std::vector<std::vector<std::string>> *> lists[] = {
        {"before_run", &hooks.before_run}, {"after_run", &hooks.after_run}, {"on_failure", &hooks.on_failure}};
    for (const auto &[key, item] : value.items()) {
        const std::string item_pointer = pointer + pointer_of(key);
        if (key == "timeout_seconds") {
            hooks.timeout_seconds = require_int(item, item_pointer, 1, 86400);
            continue;
        }
        if (key == "before_run_failure") {
            const std::string &policy = require_string(item, item_pointer).get_ref<const std::string &>();
            if (policy != "fail" && policy != "warn") fail(item_pointer, "must be \"fail\" (the run fails, nothing is copied) or \"warn\"", &item);
            hooks.before_run_must_pass = policy == "fail";
            continue;
        }
        std::vector<std::vector<std::string>> *target = nullptr;
        for (const auto &[name, field] : lists)
            if (key == name) target = field;
        if (!target)
            fail(item_pointer, "unknown key (known: before_run, after_run, on_failure, timeout_seconds, before_run_failure)", &item);
        if (!item.is_array()) fail(item_pointer, "must be a list of commands, each a list of strings: [[\"logger\", \"backup done\"]]", &item);
        for (std::size_t i = 0; i < item.size(); ++i) {
            const std::string command_pointer = item_pointer + "/" + std::to_string(i);
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
Alerts require_alerts(const json &value, const std::string &pointer) {
    if (!value.is_object()) fail(pointer, "must be an object such as {\"webhook_url\": \"https://hc-ping.com/UUID\", \"stale_after\": \"36h\"}", &value);
    Alerts alerts;
    for (const auto &[key, item] : value.items()) {
        const std::string item_pointer = pointer + pointer_of(key);
        if (key == "unit") alerts.systemd_unit = require_bool(item, item_pointer);
        else if (key == "webhook_url") alerts.webhook_url = item.is_null() ? std::string() : require_url(item, item_pointer);
        else if (key == "webhook_failure_url") alerts.webhook_failure_url = item.is_null() ? std::string() : require_url(item, item_pointer);
        else if (key == "webhook_timeout_seconds") alerts.webhook_timeout_seconds = require_int(item, item_pointer, 1, 300);
        else if (key == "stale_after") {
            const std::string &text = require_string(item, item_pointer).get_ref<const std::string &>();
            const auto seconds = text == "off" ? std::optional<std::int64_t>(0) : parse_duration(text);
            if (!seconds || (*seconds != 0 && *seconds < 1))
                fail(item_pointer, "must be a duration such as \"36h\", \"90m\", \"2d\" or \"45s\" (at most 365d), or \"off\"", &item);
            alerts.stale_after_seconds = *seconds;
        } else {
            fail(item_pointer, "unknown key (known: unit, webhook_url, webhook_failure_url, webhook_timeout_seconds, stale_after)", &item);
        }
    }
    if (!alerts.webhook_failure_url.empty() && alerts.webhook_url.empty())
        fail(pointer + "/webhook_failure_url", "needs webhook_url too (where successful runs are reported)");
    return alerts;
}

// "bwlimit": "20M", or {"08:00-19:00": "20M", "19:00-08:00": "off"}.
BandwidthSchedule require_bwlimit(const json &value, const std::string &pointer) {
    const std::string rate_help = "a rate such as \"20M\" (MiB/s), \"500K\", \"1G\", or \"off\"";
    auto rate = [&](const json &item, const std::string &item_pointer) {
        const ParsedRate parsed = item.is_string() ? parse_rate(item.get_ref<const std::string &>()) : ParsedRate{};
        if (!parsed.ok) fail(item_pointer, "must be " + rate_help, &item);
        return parsed.bytes_per_second;
    };
    BandwidthSchedule schedule;
    if (!value.is_object()) {
        if (!value.is_string())
            fail(pointer, "must be " + rate_help + ", or a timetable such as {\"08:00-19:00\": \"20M\", \"19:00-08:00\": \"off\"}", &value);
        schedule.always = rate(value, pointer);
        return schedule;
    }
    for (const auto &[key, item] : value.items()) {
        const std::string item_pointer = pointer + pointer_of(key);
        auto window = parse_window(key);
        if (!window) fail(item_pointer, "must be a time range \"HH:MM-HH:MM\" (local time; may pass midnight)", &item);
        window->bytes_per_second = rate(item, item_pointer);
        for (const auto &other : schedule.windows)
            for (int minute = 0; minute < 1440; ++minute)
                if (other.contains(minute) && window->contains(minute)) fail(item_pointer, "overlaps another time range of the timetable", &item);
        schedule.windows.push_back(*window);
    }
    if (schedule.windows.empty()) fail(pointer, "a timetable needs at least one time range", &value);
    return schedule;
}

// The keys' own validation, each called with the key's value and pointer (see
// ConfigField::Apply). The messages are the ones admins and the tests know.

void apply_source(const json &value, const std::string &pointer, Config &config) {
    config.source = require_absolute_path(value, pointer);
    if (config.source == "/") fail(pointer, "must not be the root directory", &value);
}

void apply_destination(const json &value, const std::string &pointer, Config &config) {
    config.destination = require_absolute_path(value, pointer);
    if (config.destination == "/") fail(pointer, "must not be the root directory", &value);
    if (path_is_within(config.destination, config.source))
        fail(pointer, "must not be the source or inside it (" + config.source + ")", &value);
    if (path_is_within(config.source, config.destination)) fail(pointer, "must not contain the source (" + config.source + ")", &value);
}

void apply_daily_at(const json &value, const std::string &pointer, Config &config) {
    const auto &text = require_string(value, pointer).get_ref<const std::string &>();
    auto digit = [&](std::size_t i) { return text[i] >= '0' && text[i] <= '9'; };
    if (text.size() != 5 || text[2] != ':' || !digit(0) || !digit(1) || !digit(3) || !digit(4))
        fail(pointer, "must be a local time written HH:MM, e.g. \"02:00\"", &value);
    config.daily_hour = (text[0] - '0') * 10 + (text[1] - '0');
    config.daily_minute = (text[3] - '0') * 10 + (text[4] - '0');
    if (config.daily_hour > 23) fail(pointer, "hour must be from 00 to 23", &value);
    if (config.daily_minute > 59) fail(pointer, "minute must be from 00 to 59", &value);
}

void apply_concurrency(const json &value, const std::string &pointer, Config &config) {
    if (value.is_string()) {
        if (value.get<std::string>() != "auto") fail(pointer, "must be \"auto\" or a whole number from 1 to 256", &value);
    } else if (!value.is_number_integer()) {
        fail(pointer, "must be \"auto\" or a whole number from 1 to 256", &value);
    } else {
        config.concurrency = require_int(value, pointer, 1, 256);
    }
}

void apply_state_dir(const json &value, const std::string &pointer, Config &config) {
    config.state_dir = require_absolute_path(value, pointer);
    if (config.state_dir == "/") fail(pointer, "must not be the root directory", &value);
}

// The default state folder obeys the same rules: a destination of /var/lib/dailysyncd
// would otherwise hold the daemon's own state and delete it on the first mirror run.
void check_state_dir(const Config &config, const json *given, const std::string &pointer) {
    const std::string which = given ? "" : " (the default, " + config.state_dir + "; set state_dir elsewhere)";
    if (path_is_within(config.state_dir, config.destination))
        fail(pointer, "must not be inside the destination (a mirror run would delete it)" + which, given);
    if (path_is_within(config.state_dir, config.source) || path_is_within(config.source, config.state_dir))
        fail(pointer, "must not be inside the source or hold it (dailysyncd would write into the tree it backs up)" + which, given);
}

void apply_exclude(const json &value, const std::string &pointer, Config &config) {
    config.exclude = require_string_array(value, pointer);
    for (std::size_t i = 0; i < config.exclude.size(); ++i) {
        const std::string item_pointer = pointer + "/" + std::to_string(i);
        if (config.exclude[i].find_first_not_of('/') == std::string::npos)
            fail(item_pointer, "names no file: a pattern anchored at the source's top needs a name after '/'", &value[i]);
        // rsync reads an --exclude value with the old rule prefixes: "!" clears every
        // rule before it, "+ x" makes an include rule, "- x" an exclude rule. None of
        // them is a pattern, and an include could override the protect rule.
        const std::string &pattern = config.exclude[i];
        if (pattern == "!") fail(item_pointer, "is rsync's \"clear every rule before this one\", not a pattern; remove it", &value[i]);
        if (pattern.rfind("+ ", 0) == 0 || pattern.rfind("- ", 0) == 0)
            fail(item_pointer,
                 "starts with \"" + pattern.substr(0, 2) + "\", which rsync reads as a rule, not a pattern; only patterns to exclude are accepted",
                 &value[i]);
    }
}

void apply_rsync_path(const json &value, const std::string &pointer, Config &config) {
    config.rsync_path = require_string(value, pointer).get<std::string>();
    if (config.rsync_path.empty()) fail(pointer, "must not be empty", &value);
    if (config.rsync_path.find('/') != std::string::npos && config.rsync_path.front() != '/')
        fail(pointer, "must be an absolute path or a plain program name looked up in PATH", &value);
}

void apply_rsync_extra_args(const json &value, const std::string &pointer, Config &config) {
    config.rsync_extra_args = require_string_array(value, pointer);
    for (std::size_t i = 0; i < config.rsync_extra_args.size(); ++i)
        check_extra_arg(config.rsync_extra_args[i], pointer + "/" + std::to_string(i), value[i]);
}

void apply_metrics_file(const json &value, const std::string &pointer, Config &config) {
    config.metrics_file = require_absolute_path(value, pointer);
    if (path_is_within(config.metrics_file, config.destination)) fail(pointer, "must not be inside the destination", &value);
    if (path_is_within(config.metrics_file, config.source))
        fail(pointer, "must not be inside the source (dailysyncd never writes there)", &value);
}

void apply_require_mountpoint(const json &value, const std::string &pointer, Config &config) {
    const auto which = require_string_array(value, pointer);
    for (std::size_t i = 0; i < which.size(); ++i) {
        if (which[i] == "source") config.source_must_be_mountpoint = true;
        else if (which[i] == "destination") config.destination_must_be_mountpoint = true;
        else fail(pointer + "/" + std::to_string(i), "must be \"source\" or \"destination\"", &value[i]);
    }
}

void apply_source_sentinel(const json &value, const std::string &pointer, Config &config) {
    const std::string &text = require_string(value, pointer).get_ref<const std::string &>();
    const std::string normalized = normalize_absolute_path("/" + text);
    if (text.empty() || text.front() == '/' || normalized.empty() || normalized == "/")
        fail(pointer, "must be a path relative to the source, without \"..\", e.g. \".dailysync-source\"", &value);
    config.source_sentinel = normalized.substr(1);
}

void apply_preserve(const json &value, const std::string &pointer, Config &config) {
    if (!value.is_object()) fail(pointer, "must be an object such as {\"hard_links\": true}", &value);
    const std::pair<const char *, bool *> keys[] = {{"hard_links", &config.preserve.hard_links},
                                                    {"acls", &config.preserve.acls},
                                                    {"xattrs", &config.preserve.xattrs},
                                                    {"sparse", &config.preserve.sparse}};
    for (const auto &[key, item] : value.items()) {
        bool *target = nullptr;
        for (const auto &[name, field] : keys)
            if (key == name) target = field;
        if (!target) fail(pointer + pointer_of(key), "unknown key (known: hard_links, acls, xattrs, sparse)", &item);
        *target = require_bool(item, pointer + pointer_of(key));
    }
}

void apply_versions(const json &value, const std::string &pointer, Config &config) {
    if (!value.is_object())
        fail(pointer, "must be an object such as {\"keep_daily\": 14, \"keep_weekly\": 8, \"keep_monthly\": 12}, or null", &value);
    VersionsPolicy policy;
    const std::pair<const char *, int *> keys[] = {{"keep_daily", &policy.keep_daily},
                                                   {"keep_weekly", &policy.keep_weekly},
                                                   {"keep_monthly", &policy.keep_monthly},
                                                   {"keep_last", &policy.keep_last}};
    for (const auto &[key, item] : value.items()) {
        const std::string item_pointer = pointer + pointer_of(key);
        if (key == "keep_within") {
            if (item.is_null()) continue;
            const std::string &text = require_string(item, item_pointer).get_ref<const std::string &>();
            const auto seconds = parse_duration(text);
            if (!seconds || *seconds < 1)
                fail(item_pointer, "must be a duration such as \"2d\", \"36h\" or \"90m\" (at most 365d), or null", &item);
            policy.keep_within_seconds = *seconds;
            continue;
        }
        int *target = nullptr;
        for (const auto &[name, field] : keys)
            if (key == name) target = field;
        if (!target) fail(item_pointer, "unknown key (known: keep_daily, keep_weekly, keep_monthly, keep_last, keep_within)", &item);
        *target = require_int(item, item_pointer, 0, 100000);
    }
    if (policy.keep_daily + policy.keep_weekly + policy.keep_monthly + policy.keep_last == 0 && policy.keep_within_seconds == 0)
        fail(pointer,
             "keeps nothing: give keep_daily, keep_weekly, keep_monthly or keep_last a count above 0, or keep_within a duration "
             "(or set versions to null)",
             &value);
    config.versions = policy;
}

void apply_verify(const json &value, const std::string &pointer, Config &config) {
    if (!value.is_object()) fail(pointer, "must be an object such as {\"every_days\": 7}, or null", &value);
    for (const auto &[key, item] : value.items()) {
        if (key != "every_days") fail(pointer + pointer_of(key), "unknown key (known: every_days)", &item);
        config.verify_every_days = require_int(item, pointer + "/every_days", 1, 366);
    }
    if (config.verify_every_days == 0) fail(pointer, "needs every_days: the period in which the whole backup is checked once", &value);
}

void apply_scan_threads(const json &value, const std::string &pointer, Config &config) {
    if (value.is_string() && value.get<std::string>() == "auto") config.scan_threads.reset();
    else if (value.is_number_integer()) config.scan_threads = require_int(value, pointer, 1, 64);
    else fail(pointer, "must be \"auto\" or a whole number from 1 to 64", &value);
}

void apply_daily_compare(const json &value, const std::string &pointer, Config &config) {
    const std::string text = value.is_string() ? value.get<std::string>() : std::string();
    if (text == "daemon") config.daemon_compares = true;
    else if (text == "rsync") config.daemon_compares = false;
    else
        fail(pointer,
             "must be \"rsync\" (each rsync compares its part) or \"daemon\" (the daemon compares both trees, rsync copies what differs)",
             &value);
}

void apply_bwlimit(const json &value, const std::string &pointer, Config &config) {
    config.bwlimit = require_bwlimit(value, pointer);
    for (std::size_t i = 0; i < config.rsync_extra_args.size(); ++i) {
        if (config.rsync_extra_args[i].rfind("--bwlimit=", 0) != 0) continue;
        const json argument = config.rsync_extra_args[i];
        fail("/rsync_extra_args/" + std::to_string(i), "limits each rsync while bwlimit limits the whole run: keep one of them", &argument);
    }
}

ordered_json effective_bwlimit(const Config &config) {
    if (!config.bwlimit) return nullptr;
    if (config.bwlimit->windows.empty()) return rate_text(config.bwlimit->always);
    auto clock = [](int minute) {
        char text[16];
        std::snprintf(text, sizeof text, "%02d:%02d", minute / 60, minute % 60);
        return std::string(text);
    };
    ordered_json table = ordered_json::object();
    for (const auto &window : config.bwlimit->windows)
        table[clock(window.start_minute) + "-" + clock(window.end_minute)] = rate_text(window.bytes_per_second);
    return table;
}

// max_delete and max_change say a count as a number, the rest as text.
ordered_json effective_limit(const DeleteLimit &limit) {
    if (limit.kind == DeleteLimit::Kind::count) return limit.value;
    return limit.text();
}

// "" stands for a key given as null (or left out).
ordered_json text_or_null(const std::string &text) { return text.empty() ? ordered_json() : ordered_json(text); }

// The keys that are a whole number in a range and nothing more: their type is the range.
ConfigField whole_number(std::string name, int Config::*member, int low, int high, std::string summary) {
    return {std::move(name),
            std::to_string(low) + ".." + std::to_string(high),
            std::move(summary),
            ConfigField::Presence::optional,
            [member, low, high](const json &value, const std::string &pointer, Config &config) {
                config.*member = require_int(value, pointer, low, high);
            },
            [member](const Config &config, bool) { return ordered_json(config.*member); },
            nullptr};
}

// {"a": 1, "b": [2, 3]}: JSON on one line, spaced as the documentation writes it.
std::string one_line(const ordered_json &value) {
    std::string text;
    if (value.is_object()) {
        for (const auto &[key, item] : value.items()) text += (text.empty() ? "" : ", ") + json(key).dump() + ": " + one_line(item);
        return "{" + text + "}";
    }
    if (value.is_array()) {
        for (const auto &item : value) text += (text.empty() ? "" : ", ") + one_line(item);
        return "[" + text + "]";
    }
    return value.dump();
}

}  // namespace

std::string ConfigField::pointer() const { return pointer_of(name); }

std::string ConfigField::default_text() const {
    if (presence == Presence::required) return "required";
    return one_line(effective(Config{}, false));
}

const std::vector<ConfigField> &config_fields() {
    using Presence = ConfigField::Presence;
    static const std::vector<ConfigField> fields = {
        {"source", "absolute path", "The production tree.", Presence::required, apply_source,
         [](const Config &config, bool) { return ordered_json(config.source); }, nullptr},
        {"destination", "absolute path", "Where the copy goes.", Presence::required, apply_destination,
         [](const Config &config, bool) { return ordered_json(config.destination); }, nullptr},
        {"daily_at", "\"HH:MM\"", "Local time of the daily run (24-hour clock, two digits each).", Presence::optional, apply_daily_at,
         [](const Config &config, bool) { return ordered_json(config.daily_at()); }, nullptr},
        {"concurrency", "\"auto\" or 1..256", "How many rsync processes run at once.", Presence::optional, apply_concurrency,
         [](const Config &config, bool) { return config.concurrency ? ordered_json(*config.concurrency) : ordered_json("auto"); }, nullptr},
        {"delete", "bool",
         "Mirror deletions: files and folders gone from the source are deleted at the destination (rsync --delete), including whole projects.",
         Presence::optional,
         [](const json &value, const std::string &pointer, Config &config) { config.delete_extraneous = require_bool(value, pointer); },
         [](const Config &config, bool) { return ordered_json(config.delete_extraneous); }, nullptr},
        {"state_dir", "absolute path", "Run reports (runs/RUN_ID.json), state, tree statistics and the run lock.", Presence::optional,
         apply_state_dir, [](const Config &config, bool) { return ordered_json(config.state_dir); }, check_state_dir},
        {"exclude", "array of strings", "rsync exclude patterns", Presence::optional, apply_exclude,
         [](const Config &config, bool) { return ordered_json(config.exclude); }, nullptr},
        {"rsync_path", "string", "The rsync program: an absolute path, or a name looked up in PATH.", Presence::optional, apply_rsync_path,
         [](const Config &config, bool) { return ordered_json(config.rsync_path); }, nullptr},
        {"rsync_extra_args", "array of strings", "Further rsync options, from an allow-list, each spelled exactly and whole",
         Presence::optional, apply_rsync_extra_args, [](const Config &config, bool) { return ordered_json(config.rsync_extra_args); },
         nullptr},
        whole_number("retries", &Config::retries, 0, 10, "Further attempts for a unit whose rsync failed in a way worth retrying"),
        whole_number("retry_delay_seconds", &Config::retry_delay_seconds, 0, 3600,
                     "Wait before the first retry; doubles for each further one."),
        whole_number("stall_timeout_seconds", &Config::stall_timeout_seconds, 0, 86400,
                     "An rsync that prints nothing for this long is killed (and retried)."),
        whole_number("cancel_grace_seconds", &Config::cancel_grace_seconds, 1, 300,
                     "On cancel, rsync processes get SIGTERM, and SIGKILL after this long"),
        whole_number("filesystem_timeout_seconds", &Config::filesystem_timeout_seconds, 2, 3600,
                     "How long a call on the source, the destination or the state folder may go without an answer"),
        whole_number("history_keep_runs", &Config::history_keep_runs, 1, 100000,
                     "Reports kept in state_dir/runs: at most this many (the oldest go first)"),
        whole_number("history_keep_days", &Config::history_keep_days, 1, 36500,
                     "...and none that finished more than this many days ago."),
        {"metrics_file", "absolute path or null", "Service mode: a Prometheus text file for node_exporter's textfile collector",
         Presence::nullable, apply_metrics_file, [](const Config &config, bool) { return text_or_null(config.metrics_file); }, nullptr},
        {"max_delete", "count, \"N%\" or \"unlimited\"", "With delete: the most one run may delete, as a count (1000) or a percentage",
         Presence::optional,
         [](const json &value, const std::string &pointer, Config &config) {
             config.max_delete = require_limit(value, pointer, "a percentage of the destination");
         },
         [](const Config &config, bool) { return effective_limit(config.max_delete); }, nullptr},
        {"max_change", "count, \"N%\" or \"unlimited\"",
         "The mass-change guard: the most files already in the backup whose content one run may replace", Presence::optional,
         [](const json &value, const std::string &pointer, Config &config) {
             config.max_change = require_limit(value, pointer, "a percentage of the source's entries");
         },
         [](const Config &config, bool) { return effective_limit(config.max_change); }, nullptr},
        {"require_mountpoint", "array of \"source\", \"destination\"", "Each named path must be a mount point", Presence::optional,
         apply_require_mountpoint,
         [](const Config &config, bool) {
             ordered_json which = ordered_json::array();
             if (config.source_must_be_mountpoint) which.push_back("source");
             if (config.destination_must_be_mountpoint) which.push_back("destination");
             return which;
         },
         nullptr},
        {"source_sentinel", "relative path or null", "A file (or any entry) that must exist inside the source", Presence::nullable,
         apply_source_sentinel, [](const Config &config, bool) { return text_or_null(config.source_sentinel); }, nullptr},
        {"preserve", "object", "What each copy keeps beyond --archive", Presence::optional, apply_preserve,
         [](const Config &config, bool) {
             return ordered_json{{"hard_links", config.preserve.hard_links},
                                 {"acls", config.preserve.acls},
                                 {"xattrs", config.preserve.xattrs},
                                 {"sparse", config.preserve.sparse}};
         },
         nullptr},
        {"versions", "object or null", "Keep what each run overwrites or deletes", Presence::nullable, apply_versions,
         [](const Config &config, bool) {
             if (!config.versions) return ordered_json();
             const VersionsPolicy &policy = *config.versions;
             return ordered_json{{"keep_daily", policy.keep_daily},
                                 {"keep_weekly", policy.keep_weekly},
                                 {"keep_monthly", policy.keep_monthly},
                                 {"keep_last", policy.keep_last},
                                 {"keep_within", policy.keep_within_seconds == 0
                                                     ? ordered_json()
                                                     : ordered_json(format_duration_text(policy.keep_within_seconds))}};
         },
         nullptr},
        {"hooks", "object", "Commands run around each run", Presence::optional,
         [](const json &value, const std::string &pointer, Config &config) { config.hooks = require_hooks(value, pointer); },
         [](const Config &config, bool) {
             return ordered_json{{"before_run", config.hooks.before_run},
                                 {"after_run", config.hooks.after_run},
                                 {"on_failure", config.hooks.on_failure},
                                 {"timeout_seconds", config.hooks.timeout_seconds},
                                 {"before_run_failure", config.hooks.before_run_must_pass ? "fail" : "warn"}};
         },
         nullptr},
        {"alerts", "object", "Service mode only", Presence::optional,
         [](const json &value, const std::string &pointer, Config &config) { config.alerts = require_alerts(value, pointer); },
         [](const Config &config, bool mask_secrets) {
             auto url = [mask_secrets](const std::string &text) { return text_or_null(mask_secrets && !text.empty() ? masked_url(text) : text); };
             const Alerts &alerts = config.alerts;
             return ordered_json{{"unit", alerts.systemd_unit},
                                 {"webhook_url", url(alerts.webhook_url)},
                                 {"webhook_failure_url", url(alerts.webhook_failure_url)},
                                 {"webhook_timeout_seconds", alerts.webhook_timeout_seconds},
                                 {"stale_after", alerts.stale_after_seconds == 0 ? std::string("off")
                                                                                 : format_duration_text(alerts.stale_after_seconds)}};
         },
         nullptr},
        {"verify", "object or null", "Verification at rest", Presence::nullable, apply_verify,
         [](const Config &config, bool) {
             return config.verify_every_days > 0 ? ordered_json{{"every_days", config.verify_every_days}} : ordered_json();
         },
         nullptr},
        {"scan_threads", "\"auto\" or 1..64", "How many folders the first run's scan of the source lists at once", Presence::optional,
         apply_scan_threads,
         [](const Config &config, bool) { return config.scan_threads ? ordered_json(*config.scan_threads) : ordered_json("auto"); },
         nullptr},
        {"daily_compare", "\"daemon\" or \"rsync\"", "Who compares the trees on a daily run", Presence::optional, apply_daily_compare,
         [](const Config &config, bool) { return ordered_json(config.daemon_compares ? "daemon" : "rsync"); }, nullptr},
        // After rsync_extra_args, which it is checked against.
        {"bwlimit", "rate, timetable or null", "The bandwidth of the whole run, like rclone's --bwlimit", Presence::nullable,
         apply_bwlimit, [](const Config &config, bool) { return effective_bwlimit(config); }, nullptr},
    };
    return fields;
}

Config config_from_document(const json &document) {
    if (!document.is_object()) fail("", "the configuration must be a JSON object", &document);
    const auto &fields = config_fields();
    for (const auto &item : document.items()) {
        const std::string &key = item.key();
        if (std::any_of(fields.begin(), fields.end(), [&](const ConfigField &field) { return field.name == key; })) continue;
        const std::string suggestion = closest_key(key);
        fail(pointer_of(key), suggestion.empty() ? "unknown key" : "unknown key (did you mean \"" + suggestion + "\"?)", &item.value());
    }
    for (const auto &field : fields)
        if (field.presence == ConfigField::Presence::required && !document.contains(field.name)) fail(field.pointer(), "is required but missing");
    Config config;
    for (const auto &field : fields) {
        const auto found = document.find(field.name);
        const json *given = found == document.end() ? nullptr : &*found;
        if (given && !(field.presence == ConfigField::Presence::nullable && given->is_null())) field.apply(*given, field.pointer(), config);
        if (field.check) field.check(config, given, field.pointer());
    }
    return config;
}

}  // namespace dailysync
