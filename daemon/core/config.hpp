// Configuration: JSON text -> validated, typed Config.
// Pure: no file or system access; callers read the file and check the paths exist.
#pragma once

#include <cstdint>

#include "core/bandwidth.hpp"
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dailysync {

// How many deletions one run may make ("max_delete"): a count, a percentage of the
// destination's entries, or no limit. Also how many files already in the backup one run
// may replace ("max_change", a percentage of the source's entries).
struct DeleteLimit {
    enum class Kind { unlimited, count, percent };
    Kind kind = Kind::percent;
    std::uint64_t value = 50;
    std::string text() const;   // as written in the configuration: 1000, "10%", "unlimited"
    // Deletions allowed when the destination holds `destination_entries` before deleting.
    std::uint64_t allowed(std::uint64_t destination_entries) const;
};

// What each copy keeps beyond rsync --archive ("preserve"). Defaults: sparse files stay
// sparse; hard links, ACLs and extended attributes are not kept unless asked, because each
// costs something: hard links make the whole tree one rsync (rsync keeps only the links
// among the files one rsync sees, so the tree is not split), ACLs and xattrs fail on
// destinations that lack them.
struct Preserve {
    bool hard_links = false;
    bool acls = false;
    bool xattrs = false;
    bool sparse = true;
};

// Versions kept in the backup ("versions"): whatever a run overwrites or deletes there is
// kept as the backup was before that run, and pruned like restic's forget: the last
// version of each of the last keep_daily days, keep_weekly ISO weeks and keep_monthly
// months, the keep_last newest, every one within keep_within of the newest (the newest
// always). See core/versions.hpp.
struct VersionsPolicy {
    int keep_daily = 0;
    int keep_weekly = 0;
    int keep_monthly = 0;
    int keep_last = 0;
    std::int64_t keep_within_seconds = 0;   // 0: off
    bool operator==(const VersionsPolicy &) const = default;
};

// Commands run around each run ("hooks"), each an argv array run without a shell, in
// order, with a clean environment (see core/hooks.hpp): before_run before anything is
// checked or copied, after_run after every run once its report is written, on_failure
// after a run that failed or was cancelled.
struct Hooks {
    std::vector<std::vector<std::string>> before_run, after_run, on_failure;
    int timeout_seconds = 600;        // each command; then SIGTERM, and SIGKILL after cancel_grace_seconds
    bool before_run_must_pass = true; // "before_run_failure": "fail" (true) or "warn"
    bool empty() const { return before_run.empty() && after_run.empty() && on_failure.empty(); }
};

// Alerts that reach a person ("alerts"), in service mode: after a run that failed or was
// cancelled (and one the daemon did not live to finish), and once when no run succeeded
// for stale_after. See core/alerts.hpp.
struct Alerts {
    bool systemd_unit = true;              // "unit": start dailysyncd-alert@INSTANCE.service
    std::string webhook_url;               // "" = none; POSTed a JSON summary after every run (a success ping too)
    std::string webhook_failure_url;       // "" = webhook_url; where failures and stale alerts go instead
    std::int64_t stale_after_seconds = 36 * 3600;   // "stale_after": "36h" ("off" = 0)
    int webhook_timeout_seconds = 30;
};

struct Config {
    std::string source;                      // absolute, normalised, no trailing slash
    std::string destination;                 // absolute, normalised, no trailing slash
    int daily_hour = 2;                      // "daily_at", local time
    int daily_minute = 0;
    std::optional<int> concurrency;          // nullopt = "auto"
    bool delete_extraneous = false;          // "delete"
    std::string state_dir = "/var/lib/dailysyncd";
    std::vector<std::string> exclude;        // rsync patterns, unanchored
    std::string rsync_path = "rsync";        // absolute, or a name looked up in PATH
    std::vector<std::string> rsync_extra_args;
    int retries = 2;                         // extra attempts for a unit after a transient failure
    int retry_delay_seconds = 30;            // first retry delay; doubles each time
    int stall_timeout_seconds = 1800;        // no output for this long: kill and retry (0 = never)
    int cancel_grace_seconds = 10;           // SIGTERM -> SIGKILL grace when cancelling
    int filesystem_timeout_seconds = 120;    // a call on the source or destination that takes longer: the NAS is hung
    int history_keep_runs = 400;             // reports kept: at most this many...
    int history_keep_days = 400;             // ...and none older than this (the last run's always stays)
    std::string metrics_file;                // node_exporter textfile ("" = none)
    DeleteLimit max_delete;                  // with delete: the most one run may delete
    DeleteLimit max_change{DeleteLimit::Kind::unlimited, 0};   // files in the backup one run may replace (mass-change guard)
    bool source_must_be_mountpoint = false;        // "require_mountpoint": ["source", ...]
    bool destination_must_be_mountpoint = false;   // "require_mountpoint": [..., "destination"]
    std::string source_sentinel;             // relative path that must exist in the source ("" = none)
    Preserve preserve;
    std::optional<VersionsPolicy> versions;  // nullopt: an exact mirror, nothing kept
    Hooks hooks;
    Alerts alerts;
    int verify_every_days = 0;               // "verify": {"every_days": N}: 0 = no verification at rest
    std::optional<int> scan_threads;         // folders listed at once by the first run's scan; nullopt = "auto"
    bool daemon_compares = true;             // "daily_compare": "daemon" (true) or "rsync"
    std::optional<BandwidthSchedule> bwlimit;   // the whole run's bandwidth ("bwlimit"); nullopt = unlimited

    std::string daily_at() const;            // "HH:MM"
    // Deletions go through the deletion guard (core/deletion_guard.hpp): "delete" with a limit.
    bool deletions_guarded() const { return delete_extraneous && max_delete.kind != DeleteLimit::Kind::unlimited; }
};

// One configuration problem, formatted for the admin by format_config_error().
struct ConfigError {
    std::string pointer;   // JSON pointer of the offending value ("" = whole document)
    std::string message;   // what is wrong
    std::string got;       // the offending value as JSON text, or "" when not applicable
};

struct ConfigResult {
    std::optional<Config> config;
    std::optional<ConfigError> error;
};

// Limits on the text, checked before it is parsed: a configuration is a few hundred bytes
// two levels deep; a 150 KB file of nested '[' must be an error, not a stack overflow.
inline constexpr std::size_t kMaxConfigBytes = 1 << 20;
inline constexpr std::size_t kMaxConfigDepth = 32;

// Parses and validates configuration text. Never throws.
ConfigResult parse_config(std::string_view text);

// "FILE: /pointer: message (got VALUE)"; callers put their program's name in front.
std::string format_config_error(const std::string &file, const ConfigError &error);

// The effective configuration as JSON text (every key, defaults filled in). With
// `mask_secrets` (what --check-config prints) the webhook URLs show as masked_url() does.
std::string config_to_json(const Config &config, bool mask_secrets = false);

// A URL with what may be a secret hidden: a password in it, and everything after the
// host (a ping URL's path is its token: https://hc-ping.com/UUID): "https://***@host/***".
std::string masked_url(const std::string &url);

// Closest key (core/config_fields.hpp) to `name` by edit distance, or "" when nothing is close.
std::string closest_key(std::string_view name);

// "36h", "90m", "2d", "45s" -> seconds; nullopt when not that (exposed for tests).
std::optional<std::int64_t> parse_duration(std::string_view text);
std::string format_duration_text(std::int64_t seconds);   // the inverse, in the largest whole unit

// Lexical path helpers used by validation (exposed for tests).
std::string normalize_absolute_path(std::string_view path);   // "" if not absolute
bool path_is_within(std::string_view inner, std::string_view outer);   // inner == outer or below it

}  // namespace dailysync
