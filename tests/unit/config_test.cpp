#include <gtest/gtest.h>

#include "core/config.hpp"

using namespace dailysync;

namespace {

const std::string kMinimal = R"({"source": "/data/prod", "destination": "/data/prod_backup"})";

ConfigError error_of(const std::string &text) {
    auto result = parse_config(text);
    EXPECT_FALSE(result.config) << text;
    return result.error.value_or(ConfigError{"<none>", "<no error>", ""});
}

std::string with(const std::string &extra) {
    return R"({"source": "/data/prod", "destination": "/data/prod_backup", )" + extra + "}";
}

}  // namespace

TEST(Config, MinimalConfigGetsDocumentedDefaults) {
    auto result = parse_config(kMinimal);
    ASSERT_TRUE(result.config) << result.error->message;
    const Config &c = *result.config;
    EXPECT_EQ(c.source, "/data/prod");
    EXPECT_EQ(c.destination, "/data/prod_backup");
    EXPECT_EQ(c.daily_at(), "02:00");
    EXPECT_FALSE(c.concurrency);
    EXPECT_FALSE(c.delete_extraneous);
    EXPECT_EQ(c.state_dir, "/var/lib/dailysyncd");
    EXPECT_TRUE(c.exclude.empty());
    EXPECT_EQ(c.rsync_path, "rsync");
    EXPECT_EQ(c.retries, 2);
    EXPECT_EQ(c.retry_delay_seconds, 30);
    EXPECT_EQ(c.stall_timeout_seconds, 1800);
    EXPECT_EQ(c.cancel_grace_seconds, 10);
}

TEST(Config, EveryKeyIsParsed) {
    auto result = parse_config(R"({
      "source": "/data//prod/", "destination": "/backup/./prod", "daily_at": "23:59",
      "concurrency": 16, "delete": true, "state_dir": "/var/lib/ds", "exclude": ["*.tmp", ".cache/"],
      "rsync_path": "/usr/bin/rsync", "rsync_extra_args": ["--numeric-ids", "--bwlimit=1000"],
      "retries": 0, "retry_delay_seconds": 5, "stall_timeout_seconds": 0, "cancel_grace_seconds": 3,
      "metrics_file": "/var/lib/node_exporter/textfile/dailysync.prom"})");
    ASSERT_TRUE(result.config) << result.error->message;
    const Config &c = *result.config;
    EXPECT_EQ(c.source, "/data/prod");
    EXPECT_EQ(c.destination, "/backup/prod");
    EXPECT_EQ(c.daily_hour, 23);
    EXPECT_EQ(c.daily_minute, 59);
    EXPECT_EQ(c.concurrency, 16);
    EXPECT_TRUE(c.delete_extraneous);
    EXPECT_EQ(c.state_dir, "/var/lib/ds");
    EXPECT_EQ(c.exclude, (std::vector<std::string>{"*.tmp", ".cache/"}));
    EXPECT_EQ(c.rsync_path, "/usr/bin/rsync");
    EXPECT_EQ(c.rsync_extra_args, (std::vector<std::string>{"--numeric-ids", "--bwlimit=1000"}));
    EXPECT_EQ(c.retries, 0);
    EXPECT_EQ(c.retry_delay_seconds, 5);
    EXPECT_EQ(c.stall_timeout_seconds, 0);
    EXPECT_EQ(c.cancel_grace_seconds, 3);
    EXPECT_EQ(c.metrics_file, "/var/lib/node_exporter/textfile/dailysync.prom");
}

TEST(Config, ConcurrencyAutoAndBounds) {
    EXPECT_FALSE(parse_config(with(R"("concurrency": "auto")")).config->concurrency);
    EXPECT_EQ(parse_config(with(R"("concurrency": 1)")).config->concurrency, 1);
    EXPECT_EQ(parse_config(with(R"("concurrency": 256)")).config->concurrency, 256);
    for (const char *bad : {"0", "-1", "257", "1000000000000", "2.5", "\"8\"", "\"AUTO\"", "true", "null", "[4]"}) {
        auto e = error_of(with(std::string(R"("concurrency": )") + bad));
        EXPECT_EQ(e.pointer, "/concurrency") << bad;
        EXPECT_EQ(e.got, bad) << bad;
    }
}

TEST(Config, DailyAtMustBeHHMM) {
    for (const char *bad : {"\"25:00\"", "\"7\"", "\"\"", "\"7:00\"", "\"12:60\"", "\"12-00\"", "\"24:00\"", "700", "\"02:00 \""}) {
        auto e = error_of(with(std::string(R"("daily_at": )") + bad));
        EXPECT_EQ(e.pointer, "/daily_at") << bad;
        EXPECT_EQ(e.got, bad) << bad;
    }
    EXPECT_EQ(parse_config(with(R"("daily_at": "00:00")")).config->daily_at(), "00:00");
}

TEST(Config, PathsMustBeAbsoluteAndSeparate) {
    struct Case {
        std::string text, pointer, fragment;
    };
    const std::vector<Case> cases = {
        {R"({"source": "data/prod", "destination": "/b"})", "/source", "absolute"},
        {R"({"source": "", "destination": "/b"})", "/source", "empty"},
        {R"({"source": "/a/../b", "destination": "/c"})", "/source", ".."},
        {R"({"source": 5, "destination": "/b"})", "/source", "string"},
        {R"({"source": "/", "destination": "/b"})", "/source", "root"},
        {R"({"source": "/a", "destination": "b"})", "/destination", "absolute"},
        {R"({"source": "/a", "destination": "/a"})", "/destination", "inside"},
        {R"({"source": "/a", "destination": "/a/backup"})", "/destination", "inside"},
        {R"({"source": "/a/b", "destination": "/a"})", "/destination", "contain"},
        {R"({"source": "/a", "destination": "/"})", "/destination", "root"},
        {R"({"destination": "/b"})", "/source", "required"},
        {R"({"source": "/a"})", "/destination", "required"},
        {with(R"("state_dir": "/data/prod_backup/.state")"), "/state_dir", "inside the destination"},
        {with(R"("state_dir": "var/lib")"), "/state_dir", "absolute"},
    };
    for (const auto &c : cases) {
        auto e = error_of(c.text);
        EXPECT_EQ(e.pointer, c.pointer) << c.text;
        EXPECT_NE(e.message.find(c.fragment), std::string::npos) << c.text << " -> " << e.message;
    }
    // A sibling whose name merely starts with the source is fine.
    EXPECT_TRUE(parse_config(R"({"source": "/data/prod", "destination": "/data/prod2"})").config);
}

TEST(Config, UnknownKeysAreNamedWithASuggestion) {
    auto e = error_of(with(R"("concurency": 4)"));
    EXPECT_EQ(e.pointer, "/concurency");
    EXPECT_NE(e.message.find("did you mean \"concurrency\""), std::string::npos) << e.message;
    e = error_of(with(R"("frobnicate": 1)"));
    EXPECT_EQ(e.pointer, "/frobnicate");
    EXPECT_EQ(e.message, "unknown key");
    e = error_of(with(R"("a/b~c": 1)"));
    EXPECT_EQ(e.pointer, "/a~1b~0c");
}

TEST(Config, TypesOfTheOtherKeys) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {R"("delete": "yes")", "/delete"},
        {R"("delete": 1)", "/delete"},
        {R"("exclude": "*.tmp")", "/exclude"},
        {R"("exclude": ["ok", 3])", "/exclude/1"},
        {R"("exclude": [""])", "/exclude/0"},
        {R"("exclude": ["/"])", "/exclude/0"},
        {R"("exclude": ["//"])", "/exclude/0"},
        {R"("exclude": ["a\nb"])", "/exclude/0"},
        {R"("rsync_path": "")", "/rsync_path"},
        {R"("rsync_path": "bin/rsync")", "/rsync_path"},
        {R"("rsync_extra_args": ["-z"])", "/rsync_extra_args/0"},
        {R"("rsync_extra_args": ["--numeric-ids", "--delete-after"])", "/rsync_extra_args/1"},
        {R"("rsync_extra_args": ["--info=all"])", "/rsync_extra_args/0"},
        {R"("rsync_extra_args": ["--out-format=%n"])", "/rsync_extra_args/0"},
        {R"("rsync_extra_args": ["--dry-run"])", "/rsync_extra_args/0"},
        {R"("retries": -1)", "/retries"},
        {R"("retries": 11)", "/retries"},
        {R"("retry_delay_seconds": 3601)", "/retry_delay_seconds"},
        {R"("stall_timeout_seconds": "60")", "/stall_timeout_seconds"},
        {R"("cancel_grace_seconds": 0)", "/cancel_grace_seconds"},
        {R"("metrics_file": "relative.prom")", "/metrics_file"},
        {R"("metrics_file": "/data/prod_backup/m.prom")", "/metrics_file"},
    };
    for (const auto &[fragment, pointer] : cases) EXPECT_EQ(error_of(with(fragment)).pointer, pointer) << fragment;
}

TEST(Config, ExtraRsyncArgumentsAreAnAllowListOfExactSpellings) {
    // Every way rsync could be told to remove or write source files, delete, read other
    // files or print differently is refused: aliases, abbreviations, bundles, filters.
    for (const char *arg : {"--remove-sent-files", "--remove-source-files", "--remove-s", "--rem", "-avR", "-z", "--filter=clear",
                            "--filter=- *", "--exclude-from=/etc/x", "--include=*", "--files-from=/x", "--delete-after", "--del",
                            "--max-delete=100", "--backup-dir=/x", "--link-dest=/x", "--temp-dir=/data/prod", "--partial",
                            "--inplace", "--rsync-path=sh", "--rsh=sh", "--copy-links", "--info=all", "--dry-run", "--bwlim=5",
                            "--numeric-id", "--NUMERIC-IDS", "--", "--max-size=1", "--min-size=1G", "--contimeout=1",
                            "--one-file-system", "--bwlimit=100 --remove-source-files", "--bwlimit=-1", "--bwlimit=fast",
                            "--chmod=-w", "--timeout=10s0", "--modify-window=3", "--modify-window=31536000",
                            "--modify-window=1.5", "--modify-window=2k"}) {
        const auto error = error_of(with(std::string(R"("rsync_extra_args": [")") + arg + R"("])"));
        EXPECT_EQ(error.pointer, "/rsync_extra_args/0") << arg;
    }
    for (const char *arg : {"--bwlimit=50000", "--bwlimit=1.5M", "--bwlimit=100KiB", "--timeout=600", "--numeric-ids",
                            "--chmod=D2775,F664", "--iconv=utf8,latin1", "--checksum", "--modify-window=1", "--modify-window=2", "--modify-window=0"})
        EXPECT_TRUE(parse_config(with(std::string(R"("rsync_extra_args": [")") + arg + R"("])")).config) << arg;
    // Values go with their option, never as the next argument (which would be read as a path or option).
    EXPECT_NE(error_of(with(R"("rsync_extra_args": ["--bwlimit", "100"])")).message.find("needs its value in the same string"),
              std::string::npos);
    EXPECT_NE(error_of(with(R"("rsync_extra_args": ["--bwlimit="])")).message.find("needs its value"), std::string::npos);
    EXPECT_NE(error_of(with(R"("rsync_extra_args": ["--numeric-ids=1"])")).message.find("takes no value"), std::string::npos);
    EXPECT_NE(error_of(with(R"("rsync_extra_args": ["--modify-window=86400"])")).message.find("is at most 2 seconds"), std::string::npos);
    EXPECT_NE(error_of(with(R"("rsync_extra_args": ["--remove-sent-files"])")).message.find("is not an option dailysyncd passes on"),
              std::string::npos);
}

TEST(Config, PreserveKeysWithTheirDefaults) {
    const auto defaults = parse_config(R"({"source": "/data/prod", "destination": "/data/prod_backup"})").config;
    ASSERT_TRUE(defaults);
    EXPECT_FALSE(defaults->preserve.hard_links);
    EXPECT_FALSE(defaults->preserve.acls);
    EXPECT_FALSE(defaults->preserve.xattrs);
    EXPECT_TRUE(defaults->preserve.sparse);
    const auto all = parse_config(with(R"("preserve": {"hard_links": true, "acls": true, "xattrs": true, "sparse": false})")).config;
    ASSERT_TRUE(all);
    EXPECT_TRUE(all->preserve.hard_links && all->preserve.acls && all->preserve.xattrs);
    EXPECT_FALSE(all->preserve.sparse);
    EXPECT_EQ(error_of(with(R"("preserve": {"hardlinks": true})")).pointer, "/preserve/hardlinks");
    EXPECT_EQ(error_of(with(R"("preserve": {"acls": "yes"})")).pointer, "/preserve/acls");
    EXPECT_EQ(error_of(with(R"("preserve": true)")).pointer, "/preserve");
}

TEST(Config, StateAndMetricsStayOutOfTheSourceAndTheRoot) {
    EXPECT_EQ(error_of(with(R"("state_dir": "/")")).pointer, "/state_dir");
    EXPECT_EQ(error_of(with(R"("state_dir": "/data/prod/.state")")).pointer, "/state_dir");
    EXPECT_EQ(error_of(with(R"("state_dir": "/data/prod")")).pointer, "/state_dir");
    EXPECT_EQ(error_of(with(R"("state_dir": "/data")")).pointer, "/state_dir");
    EXPECT_EQ(error_of(with(R"("metrics_file": "/data/prod/m.prom")")).pointer, "/metrics_file");
    EXPECT_TRUE(parse_config(with(R"("state_dir": "/var/lib/x", "metrics_file": "/var/lib/node/m.prom")")).config);
    // The default state folder obeys the same rules (found by the config fuzzer: such a
    // configuration did not survive its own round trip, and a mirror run would delete it).
    const auto defaulted = error_of(R"({"source": "/data/prod", "destination": "/var/lib/dailysyncd"})");
    EXPECT_EQ(defaulted.pointer, "/state_dir");
    EXPECT_NE(defaulted.message.find("the default, /var/lib/dailysyncd"), std::string::npos) << defaulted.message;
    EXPECT_EQ(error_of(R"({"source": "/var", "destination": "/backup"})").pointer, "/state_dir");
    EXPECT_TRUE(parse_config(R"({"source": "/var", "destination": "/backup", "state_dir": "/srv/ds"})").config);
}

TEST(Config, AnExcludeOfABareBangIsRefused) {
    EXPECT_EQ(error_of(with(R"("exclude": ["*.tmp", "!"])")).pointer, "/exclude/1");
    // rsync's rule prefixes: "+ " would make an include rule, "- " an exclude rule.
    EXPECT_EQ(error_of(with(R"("exclude": ["+ keep.tmp", "*.tmp"])")).pointer, "/exclude/0");
    EXPECT_EQ(error_of(with(R"("exclude": ["- /build"])")).pointer, "/exclude/0");
    EXPECT_TRUE(parse_config(with(R"("exclude": ["+keep", "-x", "a + b"])")).config) << "without the space they are patterns";
    EXPECT_TRUE(parse_config(with(R"("exclude": ["!important"])")).config);   // a name that starts with '!' is a pattern
}

TEST(Config, SizeAndNestingAreLimitedBeforeParsing) {
    const std::string deep = R"({"source": "/a", "destination": "/b", "exclude": )" + std::string(75'000, '[') + std::string(75'000, ']') + "}";
    const auto nested = error_of(deep);
    EXPECT_EQ(nested.pointer, "");
    EXPECT_EQ(nested.message, "arrays and objects nest more than 32 levels deep (line 1)");
    // Brackets inside strings do not count; 32 levels are fine (and then fail validation, not parsing).
    EXPECT_TRUE(parse_config(with(R"("exclude": ["[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["])")).config);
    EXPECT_EQ(error_of(R"({"source": "/a", "destination": "/b", "exclude": )" + std::string(31, '[') + std::string(31, ']') + "}").message.find("nest"),
              std::string::npos);
    const std::string big = R"({"source": "/a", "destination": "/b", "exclude": [")" + std::string(kMaxConfigBytes, 'x') + R"("]})";
    EXPECT_NE(error_of(big).message.find("at most 1048576 are read"), std::string::npos);
}

TEST(Config, SyntaxProblemsAreReported) {
    EXPECT_NE(error_of("").message.find("empty"), std::string::npos);
    EXPECT_NE(error_of("  \n").message.find("empty"), std::string::npos);
    auto truncated = error_of(R"({"source": "/a", "destination": )");
    EXPECT_EQ(truncated.pointer, "");
    EXPECT_NE(truncated.message.find("invalid JSON"), std::string::npos);
    EXPECT_NE(truncated.message.find("line 1"), std::string::npos) << truncated.message;
    auto not_utf8 = error_of("{\"source\": \"/a\xff\", \"destination\": \"/b\"}");
    EXPECT_NE(not_utf8.message.find("invalid JSON"), std::string::npos);
    EXPECT_NE(error_of("[1, 2]").message.find("JSON object"), std::string::npos);
    auto duplicate = error_of(R"({"source": "/a", "destination": "/b", "source": "/c"})");
    EXPECT_EQ(duplicate.pointer, "/source");
    EXPECT_NE(duplicate.message.find("more than once"), std::string::npos);
    auto nested = error_of(R"({"source": "/a", "destination": "/b", "exclude": [{"x": 1, "x": 2}]})");
    EXPECT_EQ(nested.pointer, "/exclude/0/x");
}

TEST(Config, ErrorLineFormat) {
    EXPECT_EQ(format_config_error("/etc/d.json", ConfigError{"/concurrency", "must be from 1 to 256", "0"}),
              "/etc/d.json: /concurrency: must be from 1 to 256 (got 0)");
    EXPECT_EQ(format_config_error("f.json", ConfigError{"", "the file is empty", ""}), "f.json: the file is empty");
}

TEST(Config, EffectiveConfigRoundTrips) {
    auto first = parse_config(with(R"("concurrency": 8, "exclude": ["*.tmp"], "daily_at": "03:30")"));
    ASSERT_TRUE(first.config);
    auto second = parse_config(config_to_json(*first.config));
    ASSERT_TRUE(second.config) << second.error->message;
    EXPECT_EQ(config_to_json(*first.config), config_to_json(*second.config));
    auto autoconf = parse_config(config_to_json(*parse_config(kMinimal).config));
    ASSERT_TRUE(autoconf.config);
    EXPECT_FALSE(autoconf.config->concurrency);
}

TEST(Config, PathHelpers) {
    EXPECT_EQ(normalize_absolute_path("/a//b/./c/"), "/a/b/c");
    EXPECT_EQ(normalize_absolute_path("/"), "/");
    EXPECT_EQ(normalize_absolute_path("a"), "");
    EXPECT_EQ(normalize_absolute_path("/a/../b"), "");
    EXPECT_TRUE(path_is_within("/a/b", "/a"));
    EXPECT_TRUE(path_is_within("/a", "/a"));
    EXPECT_FALSE(path_is_within("/ab", "/a"));
    EXPECT_TRUE(path_is_within("/x", "/"));
    EXPECT_EQ(closest_key("sourc"), "source");
    EXPECT_EQ(closest_key("dest"), "");
    EXPECT_EQ(closest_key("retires"), "retries");
}

TEST(Config, SafetyGuardKeys) {
    auto defaults = parse_config(kMinimal).config;
    ASSERT_TRUE(defaults);
    EXPECT_EQ(defaults->max_delete.text(), "50%");
    EXPECT_FALSE(defaults->source_must_be_mountpoint);
    EXPECT_FALSE(defaults->destination_must_be_mountpoint);
    EXPECT_EQ(defaults->source_sentinel, "");

    auto c = parse_config(with(R"("max_delete": 1000, "require_mountpoint": ["destination", "source"], "source_sentinel": "./.ok//x")"));
    ASSERT_TRUE(c.config) << c.error->message;
    EXPECT_EQ(c.config->max_delete.kind, DeleteLimit::Kind::count);
    EXPECT_EQ(c.config->max_delete.allowed(5), 1000u);
    EXPECT_TRUE(c.config->source_must_be_mountpoint);
    EXPECT_TRUE(c.config->destination_must_be_mountpoint);
    EXPECT_EQ(c.config->source_sentinel, ".ok/x");
    auto round = parse_config(config_to_json(*c.config));
    ASSERT_TRUE(round.config);
    EXPECT_EQ(config_to_json(*round.config), config_to_json(*c.config));

    auto percent = parse_config(with(R"("max_delete": "10%")")).config;
    EXPECT_EQ(percent->max_delete.allowed(1000), 100u);
    EXPECT_EQ(percent->max_delete.allowed(9), 0u);
    EXPECT_EQ(parse_config(with(R"("max_delete": "100%")")).config->max_delete.allowed(7), 7u);
    EXPECT_EQ(parse_config(with(R"("max_delete": "unlimited")")).config->max_delete.kind, DeleteLimit::Kind::unlimited);
    EXPECT_EQ(DeleteLimit({DeleteLimit::Kind::percent, 50}).allowed(18'000'000'000'000'000'000ULL), 9'000'000'000'000'000'000ULL)
        << "no overflow";

    for (const char *bad : {R"("max_delete": "10")", R"("max_delete": "%")", R"("max_delete": "101%")", R"("max_delete": "-5%")",
                            R"("max_delete": -1)", R"("max_delete": 1.5)", R"("max_delete": true)", R"("max_delete": "lots")"})
        EXPECT_EQ(error_of(with(bad)).pointer, "/max_delete") << bad;
    EXPECT_EQ(error_of(with(R"("require_mountpoint": "source")")).pointer, "/require_mountpoint");
    auto which = error_of(with(R"("require_mountpoint": ["source", "backup"])"));
    EXPECT_EQ(which.pointer, "/require_mountpoint/1");
    EXPECT_EQ(which.message, "must be \"source\" or \"destination\"");
    for (const char *bad : {R"("source_sentinel": "/abs")", R"("source_sentinel": "../up")", R"("source_sentinel": "")",
                            R"("source_sentinel": ".")", R"("source_sentinel": 3)"})
        EXPECT_EQ(error_of(with(bad)).pointer, "/source_sentinel") << bad;
}

TEST(Config, NumbersTooBigForJsonAreAnErrorNotACrash) {
    // Found by tests/fuzz/config_fuzz.cpp: nlohmann throws out_of_range, not parse_error.
    auto e = error_of("22e3333");
    EXPECT_NE(e.message.find("invalid JSON: "), std::string::npos) << e.message;
    EXPECT_NE(error_of(with(R"("retries": 1e999)")).message.find("invalid JSON: "), std::string::npos);
}

TEST(Config, VersionsAreOffUnlessAskedAndKeepSomething) {
    EXPECT_FALSE(parse_config(kMinimal).config->versions);
    EXPECT_FALSE(parse_config(with(R"("versions": null)")).config->versions);
    const auto config = parse_config(with(R"("versions": {"keep_daily": 14, "keep_weekly": 8, "keep_monthly": 12})")).config;
    ASSERT_TRUE(config && config->versions);
    EXPECT_EQ(*config->versions, (VersionsPolicy{14, 8, 12}));
    EXPECT_EQ(parse_config(with(R"("versions": {"keep_monthly": 3})")).config->versions, (VersionsPolicy{0, 0, 3}));
    // The effective configuration says it back, and reads again the same.
    EXPECT_EQ(parse_config(config_to_json(*config)).config->versions, config->versions);
    EXPECT_EQ(error_of(with(R"("versions": {"keep_dayly": 3})")).pointer, "/versions/keep_dayly");
    EXPECT_EQ(error_of(with(R"("versions": {"keep_daily": -1})")).pointer, "/versions/keep_daily");
    EXPECT_EQ(error_of(with(R"("versions": {"keep_daily": "7"})")).pointer, "/versions/keep_daily");
    EXPECT_EQ(error_of(with(R"("versions": true)")).pointer, "/versions");
    EXPECT_NE(error_of(with(R"("versions": {"keep_daily": 0})")).message.find("keeps nothing"), std::string::npos);
    // restic's and borg's keep-last and keep-within.
    const auto last = parse_config(with(R"("versions": {"keep_last": 5, "keep_within": "2d"})")).config;
    ASSERT_TRUE(last && last->versions);
    EXPECT_EQ(*last->versions, (VersionsPolicy{0, 0, 0, 5, 2 * 86400}));
    EXPECT_EQ(parse_config(config_to_json(*last)).config->versions, last->versions);
    EXPECT_NE(config_to_json(*last).find(R"("keep_within": "2d")"), std::string::npos) << config_to_json(*last);
    EXPECT_TRUE(parse_config(with(R"("versions": {"keep_within": "36h"})")).config);
    EXPECT_EQ(error_of(with(R"("versions": {"keep_within": "forever"})")).pointer, "/versions/keep_within");
    EXPECT_EQ(error_of(with(R"("versions": {"keep_within": 3})")).pointer, "/versions/keep_within");
    EXPECT_NE(error_of(with(R"("versions": {"keep_last": 0, "keep_within": null})")).message.find("keeps nothing"), std::string::npos);
}

TEST(Config, RsyncsOwnWaysOfKeepingOldFilesPointAtVersions) {
    for (const char *arg : {"--backup", "--backup-dir=/x", "--suffix=.old", "--link-dest=/x", "--compare-dest=/x", "--copy-dest=/x", "-b"}) {
        const auto error = error_of(with(std::string(R"("rsync_extra_args": ["--numeric-ids", ")") + arg + R"("])"));
        EXPECT_EQ(error.pointer, "/rsync_extra_args/1") << arg;
        EXPECT_NE(error.message.find("use the \"versions\" key"), std::string::npos) << arg << ": " << error.message;
    }
}

TEST(Config, MaxChangeIsOffByDefaultAndTakesACountOrAPercentage) {
    EXPECT_EQ(parse_config(kMinimal).config->max_change.kind, DeleteLimit::Kind::unlimited);
    EXPECT_EQ(parse_config(with(R"("max_change": 500)")).config->max_change.allowed(1'000'000), 500u);
    EXPECT_EQ(parse_config(with(R"("max_change": "10%")")).config->max_change.allowed(1000), 100u);
    EXPECT_EQ(parse_config(with(R"("max_change": "unlimited")")).config->max_change.kind, DeleteLimit::Kind::unlimited);
    EXPECT_EQ(error_of(with(R"("max_change": "110%")")).pointer, "/max_change");
    EXPECT_NE(error_of(with(R"("max_change": "lots")")).message.find("a percentage of the source's entries"), std::string::npos);
    const auto config = parse_config(with(R"("max_change": "5%")")).config;
    EXPECT_EQ(parse_config(config_to_json(*config)).config->max_change.text(), "5%");
}

TEST(Config, HooksAreArgvListsPerStageWithATimeoutAndAPolicy) {
    const auto none = parse_config(kMinimal).config;
    EXPECT_TRUE(none->hooks.empty());
    EXPECT_EQ(none->hooks.timeout_seconds, 600);
    EXPECT_TRUE(none->hooks.before_run_must_pass);
    const auto config = parse_config(with(R"("hooks": {"before_run": [["pg_dump", "-f", "/data/prod/db.sql", "prod"], ["sync"]],
        "after_run": [["/usr/local/sbin/snap", "dest"]], "on_failure": [["logger", "backup failed"]],
        "timeout_seconds": 60, "before_run_failure": "warn"})")).config;
    ASSERT_TRUE(config);
    EXPECT_EQ(config->hooks.before_run, (std::vector<std::vector<std::string>>{{"pg_dump", "-f", "/data/prod/db.sql", "prod"}, {"sync"}}));
    EXPECT_EQ(config->hooks.after_run.at(0).at(0), "/usr/local/sbin/snap");
    EXPECT_EQ(config->hooks.on_failure.at(0).at(1), "backup failed");
    EXPECT_EQ(config->hooks.timeout_seconds, 60);
    EXPECT_FALSE(config->hooks.before_run_must_pass);
    // The effective configuration says it back, and reads again the same.
    const auto again = parse_config(config_to_json(*config)).config;
    ASSERT_TRUE(again);
    EXPECT_EQ(again->hooks.before_run, config->hooks.before_run);
    EXPECT_EQ(again->hooks.on_failure, config->hooks.on_failure);
    EXPECT_FALSE(again->hooks.before_run_must_pass);

    // A shell string is refused with the way to write it.
    auto error = error_of(with(R"("hooks": {"before_run": ["pg_dump -f /x prod"]})"));
    EXPECT_EQ(error.pointer, "/hooks/before_run/0");
    EXPECT_NE(error.message.find("no shell runs it"), std::string::npos) << error.message;
    EXPECT_EQ(error_of(with(R"("hooks": {"after_run": [[]]})")).pointer, "/hooks/after_run/0");
    EXPECT_EQ(error_of(with(R"("hooks": {"after_run": [["ls", 3]]})")).pointer, "/hooks/after_run/0/1");
    EXPECT_EQ(error_of(with(R"("hooks": {"after_run": [["ls", "a\nb"]]})")).pointer, "/hooks/after_run/0/1");
    EXPECT_EQ(error_of(with(R"("hooks": {"before_run": [["x"]], "on_failures": []})")).pointer, "/hooks/on_failures");
    EXPECT_EQ(error_of(with(R"("hooks": {"after_run": ["ls"]})")).pointer, "/hooks/after_run/0");
    EXPECT_EQ(error_of(with(R"("hooks": {"after_run": {"a": ["ls"]}})")).pointer, "/hooks/after_run");
    EXPECT_EQ(error_of(with(R"("hooks": {"timeout_seconds": 0})")).pointer, "/hooks/timeout_seconds");
    EXPECT_EQ(error_of(with(R"("hooks": {"before_run_failure": "ignore"})")).pointer, "/hooks/before_run_failure");
    EXPECT_EQ(error_of(with(R"("hooks": [["ls"]])")).pointer, "/hooks");
}

TEST(Config, AlertsHaveAUnitAWebhookAndAStaleLimit) {
    const auto defaults = parse_config(kMinimal).config;
    EXPECT_TRUE(defaults->alerts.systemd_unit);
    EXPECT_EQ(defaults->alerts.webhook_url, "");
    EXPECT_EQ(defaults->alerts.stale_after_seconds, 36 * 3600);
    const auto config = parse_config(with(R"("alerts": {"unit": false, "webhook_url": "https://hc-ping.com/abc",
        "webhook_failure_url": "https://hc-ping.com/abc/fail", "stale_after": "2d", "webhook_timeout_seconds": 10})")).config;
    ASSERT_TRUE(config);
    EXPECT_FALSE(config->alerts.systemd_unit);
    EXPECT_EQ(config->alerts.webhook_failure_url, "https://hc-ping.com/abc/fail");
    EXPECT_EQ(config->alerts.stale_after_seconds, 2 * 86400);
    EXPECT_EQ(config->alerts.webhook_timeout_seconds, 10);
    const auto again = parse_config(config_to_json(*config)).config;
    ASSERT_TRUE(again);
    EXPECT_EQ(again->alerts.stale_after_seconds, 2 * 86400);
    EXPECT_EQ(again->alerts.webhook_url, "https://hc-ping.com/abc");
    EXPECT_EQ(parse_config(with(R"("alerts": {"stale_after": "off"})")).config->alerts.stale_after_seconds, 0);
    EXPECT_EQ(parse_config(config_to_json(*parse_config(with(R"("alerts": {"stale_after": "off"})")).config)).config->alerts.stale_after_seconds, 0);

    EXPECT_EQ(error_of(with(R"("alerts": {"webhook_url": "ftp://x.example/y"})")).pointer, "/alerts/webhook_url");
    EXPECT_EQ(error_of(with(R"("alerts": {"webhook_url": "https://x.example/a b"})")).pointer, "/alerts/webhook_url");
    EXPECT_EQ(error_of(with(R"("alerts": {"webhook_failure_url": "https://x.example/f"})")).pointer, "/alerts/webhook_failure_url");
    EXPECT_EQ(error_of(with(R"("alerts": {"stale_after": "36"})")).pointer, "/alerts/stale_after");
    EXPECT_EQ(error_of(with(R"("alerts": {"stale_after": "400d"})")).pointer, "/alerts/stale_after");
    EXPECT_EQ(error_of(with(R"("alerts": {"stale_after": 36})")).pointer, "/alerts/stale_after");
    EXPECT_EQ(error_of(with(R"("alerts": {"webhook": "https://x.example"})")).pointer, "/alerts/webhook");
    EXPECT_EQ(parse_duration("36h"), 36 * 3600);
    EXPECT_EQ(parse_duration("90m"), 90 * 60);
    EXPECT_EQ(parse_duration("45s"), 45);
    EXPECT_FALSE(parse_duration("0h"));
    EXPECT_FALSE(parse_duration("h"));
    EXPECT_FALSE(parse_duration("-1h"));
    EXPECT_EQ(format_duration_text(129600), "36h");
    EXPECT_EQ(format_duration_text(90), "90s");
}

TEST(Config, ScanThreadsAreAutoOrACount) {
    EXPECT_FALSE(parse_config(kMinimal).config->scan_threads);
    EXPECT_EQ(parse_config(with(R"("scan_threads": 16)")).config->scan_threads, 16);
    EXPECT_FALSE(parse_config(with(R"("scan_threads": "auto")")).config->scan_threads);
    EXPECT_EQ(parse_config(config_to_json(*parse_config(with(R"("scan_threads": 8)")).config)).config->scan_threads, 8);
    EXPECT_TRUE(parse_config(kMinimal).config->daemon_compares);
    EXPECT_FALSE(parse_config(with(R"("daily_compare": "rsync")")).config->daemon_compares);
    EXPECT_TRUE(parse_config(with(R"("daily_compare": "daemon")")).config->daemon_compares);
    EXPECT_TRUE(parse_config(config_to_json(*parse_config(with(R"("daily_compare": "daemon")")).config)).config->daemon_compares);
    EXPECT_EQ(error_of(with(R"("daily_compare": "yes")")).pointer, "/daily_compare");
    for (const char *bad : {R"("scan_threads": 0)", R"("scan_threads": 65)", R"("scan_threads": "many")", R"("scan_threads": 1.5)"})
        EXPECT_EQ(error_of(with(bad)).pointer, "/scan_threads") << bad;
}

// --check-config's output gets pasted into tickets: a webhook's password and token (a
// ping URL's path) never show; the host does, so the admin sees where alerts go.
TEST(Config, SecretsInWebhookUrlsArePrintedMasked) {
    EXPECT_EQ(masked_url("https://hc-ping.com/0f8a3c4e-1111-2222-3333-444455556666"), "https://hc-ping.com/***");
    EXPECT_EQ(masked_url("https://user:s3cret@alerts.example:8443/hook?token=abc"), "https://***@alerts.example:8443/***");
    EXPECT_EQ(masked_url("https://alerts.example"), "https://alerts.example");
    EXPECT_EQ(masked_url("https://alerts.example/"), "https://alerts.example/");
    EXPECT_EQ(masked_url("https://token@alerts.example/x"), "https://***@alerts.example/***");
    const auto c = parse_config(with(R"("alerts": {"webhook_url": "https://u:pw@hc-ping.com/secret-uuid"})"));
    ASSERT_TRUE(c.config);
    const std::string shown = config_to_json(*c.config, true);
    EXPECT_EQ(shown.find("secret-uuid"), std::string::npos) << shown;
    EXPECT_EQ(shown.find("pw"), std::string::npos) << shown;
    EXPECT_NE(shown.find("https://***@hc-ping.com/***"), std::string::npos) << shown;
    EXPECT_NE(config_to_json(*c.config).find("secret-uuid"), std::string::npos) << "unmasked for round trips";
}
