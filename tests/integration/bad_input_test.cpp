// Bad input, rejected cleanly: malformed configurations (one precise line, exit 78, and a
// running daemon keeps its configuration), and abusive D-Bus callers (wrong signatures,
// unknown members, huge arguments, a burst of 1,000 calls).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <systemd/sd-bus.h>

#include "helpers.hpp"
#include "service_fixture.hpp"

using namespace testing_support;

namespace {

struct BadConfig {
    std::string why;        // what the case is about
    std::string body;       // the file's content (SRC and DST are replaced)
    std::string expected;   // what the one-line message says after "dailysyncd: FILE: "
};

std::string fill(std::string text, const std::string &source, const std::string &destination) {
    for (auto [key, value] : {std::pair<std::string, std::string>{"SRC", source}, {"DST", destination}})
        for (auto at = text.find(key); at != std::string::npos; at = text.find(key, at + value.size())) text.replace(at, key.size(), value);
    return text;
}

const std::vector<BadConfig> kBadConfigs = {
    {"empty file", "", "the file is empty; it must hold a JSON object"},
    {"only spaces", "  \n ", "the file is empty; it must hold a JSON object"},
    {"truncated", R"({"source": "SRC", "destinat)", "invalid JSON: "},
    {"not an object", R"(["SRC"])", "the configuration must be a JSON object (got [\"SRC\"])"},
    {"non-UTF-8 bytes", "{\"source\": \"SRC\", \"destination\": \"DST\", \"exclude\": [\"\xff\xfe\"]}", "invalid JSON: "},
    {"duplicate key", R"({"source": "SRC", "destination": "DST", "delete": true, "delete": false})", "/delete: key appears more than once"},
    {"unknown key", R"({"source": "SRC", "destination": "DST", "concurency": 4})", "/concurency: unknown key (did you mean \"concurrency\"?) (got 4)"},
    {"missing source", R"({"destination": "DST"})", "/source: is required but missing"},
    {"source of the wrong type", R"({"source": 42, "destination": "DST"})", "/source: "},
    {"relative source", R"({"source": "data/prod", "destination": "DST"})", "/source: "},
    {"relative destination", R"({"source": "SRC", "destination": "backup"})", "/destination: "},
    {"source is the destination", R"({"source": "SRC", "destination": "SRC"})", "/destination: must not be the source or inside it"},
    {"destination inside the source", R"({"source": "SRC", "destination": "SRC/backup"})", "/destination: must not be the source or inside it"},
    {"source inside the destination", R"({"source": "SRC", "destination": "SRC/.."})", "/destination: "},
    {"daily_at 25:00", R"({"source": "SRC", "destination": "DST", "daily_at": "25:00"})", "/daily_at: hour must be from 00 to 23 (got \"25:00\")"},
    {"daily_at 7", R"({"source": "SRC", "destination": "DST", "daily_at": "7"})", "/daily_at: must be a local time written HH:MM, e.g. \"02:00\" (got \"7\")"},
    {"daily_at empty", R"({"source": "SRC", "destination": "DST", "daily_at": ""})", "/daily_at: must be a local time written HH:MM"},
    {"daily_at 12:60", R"({"source": "SRC", "destination": "DST", "daily_at": "12:60"})", "/daily_at: minute must be from 00 to 59"},
    {"concurrency 0", R"({"source": "SRC", "destination": "DST", "concurrency": 0})", "/concurrency: must be from 1 to 256 (got 0)"},
    {"concurrency -1", R"({"source": "SRC", "destination": "DST", "concurrency": -1})", "/concurrency: must be from 1 to 256 (got -1)"},
    {"concurrency 10^12", R"({"source": "SRC", "destination": "DST", "concurrency": 1000000000000})", "/concurrency: must be from 1 to 256 (got 1000000000000)"},
    {"concurrency as text", R"({"source": "SRC", "destination": "DST", "concurrency": "many"})", "/concurrency: must be \"auto\" or a whole number from 1 to 256"},
    {"delete as text", R"({"source": "SRC", "destination": "DST", "delete": "yes"})", "/delete: "},
    {"exclude not an array", R"({"source": "SRC", "destination": "DST", "exclude": "*.tmp"})", "/exclude: must be an array of strings"},
    {"an exclude of the top itself", R"({"source": "SRC", "destination": "DST", "exclude": ["/"]})", "/exclude/0: names no file"},
    {"deleting rsync option", R"({"source": "SRC", "destination": "DST", "rsync_extra_args": ["--delete-after"]})", "/rsync_extra_args/0: is not an option dailysyncd passes on"},
    {"short rsync option", R"({"source": "SRC", "destination": "DST", "rsync_extra_args": ["-v"]})", "/rsync_extra_args/0: must be one long rsync option"},
    {"rsync's old alias that removes source files", R"({"source": "SRC", "destination": "DST", "rsync_extra_args": ["--remove-sent-files"]})", "/rsync_extra_args/0: is not an option dailysyncd passes on"},
    {"an abbreviated option", R"({"source": "SRC", "destination": "DST", "rsync_extra_args": ["--remove-s"]})", "/rsync_extra_args/0: is not an option dailysyncd passes on"},
    {"bundled short options", R"({"source": "SRC", "destination": "DST", "rsync_extra_args": ["-avR"]})", "/rsync_extra_args/0: must be one long rsync option"},
    {"a filter that clears the protect rule", R"({"source": "SRC", "destination": "DST", "rsync_extra_args": ["--filter=clear"]})", "/rsync_extra_args/0: is not an option dailysyncd passes on"},
    {"a value as its own argument", R"({"source": "SRC", "destination": "DST", "rsync_extra_args": ["--bwlimit", "100"]})", "/rsync_extra_args/0: needs its value in the same string"},
    {"an exclude that is an include rule", R"({"source": "SRC", "destination": "DST", "exclude": ["+ keep.tmp", "*.tmp"]})", "/exclude/0: starts with \"+ \", which rsync reads as a rule"},
    {"an exclude that clears the rules", R"({"source": "SRC", "destination": "DST", "exclude": ["!"]})", "/exclude/0: is rsync's \"clear every rule before this one\""},
    {"75,000 nested arrays", "{\"source\": \"SRC\", \"destination\": \"DST\", \"exclude\": " + std::string(75'000, '[') + std::string(75'000, ']') + "}", "arrays and objects nest more than 32 levels deep (line 1)"},
    {"a file of more than 1 MiB", "{\"source\": \"SRC\", \"destination\": \"DST\", \"exclude\": [\"" + std::string(1 << 20, 'x') + "\"]}", "the file is "},
    {"retries 11", R"({"source": "SRC", "destination": "DST", "retries": 11})", "/retries: must be from 0 to 10 (got 11)"},
    {"state inside the destination", R"({"source": "SRC", "destination": "DST", "state_dir": "DST/state"})", "/state_dir: must not be inside the destination"},
    {"max_delete 101%", R"({"source": "SRC", "destination": "DST", "max_delete": "101%"})", "/max_delete: a percentage must be from 0% to 100%"},
    {"require_mountpoint typo", R"({"source": "SRC", "destination": "DST", "require_mountpoint": ["backup"]})", "/require_mountpoint/0: must be \"source\" or \"destination\""},
    {"sentinel escaping the source", R"({"source": "SRC", "destination": "DST", "source_sentinel": "../x"})", "/source_sentinel: must be a path relative to the source"},
    {"relative metrics file", R"({"source": "SRC", "destination": "DST", "metrics_file": "dailysync.prom"})", "/metrics_file: "},
    {"root as the source", R"({"source": "/", "destination": "DST"})", "/source: must not be the root directory"},
};

}  // namespace

TEST(BadInput, EveryMalformedConfigurationIsOnePreciseLineAndExit78) {
    ASSERT_GE(kBadConfigs.size(), 25u);
    TempDir dir;
    make_dirs(dir / "prod");
    for (std::size_t i = 0; i < kBadConfigs.size(); ++i) {
        const BadConfig &c = kBadConfigs[i];
        const std::string path = dir / ("bad" + std::to_string(i) + ".json");
        write_file(path, fill(c.body, dir / "prod", dir / "backup"));
        auto r = run({dailysyncd(), "--check-config", "--config", path});
        EXPECT_EQ(r.exit_code, 78) << c.why;
        EXPECT_EQ(r.out, "") << c.why;
        const std::string prefix = "dailysyncd: " + path + ": ";
        EXPECT_EQ(r.err.rfind(prefix, 0), 0u) << c.why << ": " << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << c.why << ": one line: " << r.err;
        const std::string expected = fill(c.expected, dir / "prod", dir / "backup");
        EXPECT_EQ(r.err.compare(prefix.size(), expected.size(), expected), 0) << c.why << ": " << r.err;
    }
}

TEST(BadInput, ARunningDaemonKeepsItsConfigurationOnEveryBadReload) {
    Service s;
    s.start();
    const auto before = nlohmann::json::parse(s.ctl({"status", "--json"}).out);
    for (std::size_t i = 0; i < kBadConfigs.size(); ++i) {
        write_file(s.config_path, fill(kBadConfigs[i].body, s.source, s.destination));
        auto reload = s.ctl({"reload"});
        EXPECT_EQ(reload.exit_code, 3) << kBadConfigs[i].why << ": " << reload.out;
        EXPECT_NE(reload.err.find(s.config_path), std::string::npos) << reload.err;
    }
    const auto after = nlohmann::json::parse(s.ctl({"status", "--json"}).out);
    EXPECT_EQ(after["next_run"], before["next_run"]);
    s.write_config("");
    auto run_after = s.ctl({"start", "--wait"});
    EXPECT_EQ(run_after.exit_code, 0) << run_after.out << run_after.err;
}

namespace {

// A raw sd-bus connection to the private bus, for calls no well-behaved client makes.
class RawBus {
public:
    explicit RawBus(const std::string &address) {
        sd_bus_new(&bus_);
        sd_bus_set_address(bus_, address.c_str());
        sd_bus_set_bus_client(bus_, 1);
        EXPECT_GE(sd_bus_start(bus_), 0);
    }
    ~RawBus() { sd_bus_flush_close_unref(bus_); }
    sd_bus *get() const { return bus_; }
    // Sends `m` and returns the error name ("" for a method return).
    std::string call(sd_bus_message *m) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = nullptr;
        const int r = sd_bus_call(bus_, m, 10'000'000, &error, &reply);
        std::string name = r < 0 ? (error.name ? error.name : "errno " + std::to_string(-r)) : "";
        sd_bus_message_unref(reply);
        sd_bus_message_unref(m);
        sd_bus_error_free(&error);
        return name;
    }
    sd_bus_message *method(const char *interface, const char *member) {
        sd_bus_message *m = nullptr;
        sd_bus_message_new_method_call(bus_, &m, "io.dailysync1", "/io/dailysync1", interface, member);
        return m;
    }

private:
    sd_bus *bus_ = nullptr;
};

constexpr const char *kIface = "io.dailysync1.Manager";

}  // namespace

TEST(BadInput, AbusiveDBusCallsGetProperErrorsAndTheDaemonStaysResponsive) {
    Service s;
    s.start();
    RawBus bus(s.bus.address());
    auto *wrong_type = bus.method(kIface, "GetRunReport");
    sd_bus_message_append(wrong_type, "i", 5);
    EXPECT_EQ(bus.call(wrong_type), "org.freedesktop.DBus.Error.InvalidArgs");
    auto *extra_argument = bus.method(kIface, "StartRun");
    sd_bus_message_append(extra_argument, "s", "now please");
    EXPECT_EQ(bus.call(extra_argument), "org.freedesktop.DBus.Error.InvalidArgs");
    EXPECT_EQ(bus.call(bus.method(kIface, "Frobnicate")), "org.freedesktop.DBus.Error.UnknownMethod");
    EXPECT_EQ(bus.call(bus.method("io.dailysync1.Nope", "StartRun")), "org.freedesktop.DBus.Error.UnknownMethod");
    auto *unknown_property = bus.method("org.freedesktop.DBus.Properties", "Get");
    sd_bus_message_append(unknown_property, "ss", kIface, "Nope");
    EXPECT_EQ(bus.call(unknown_property), "org.freedesktop.DBus.Error.UnknownProperty");
    auto *set_read_only = bus.method("org.freedesktop.DBus.Properties", "Set");
    sd_bus_message_append(set_read_only, "ssv", kIface, "State", "s", "idle");
    EXPECT_EQ(bus.call(set_read_only), "org.freedesktop.DBus.Error.PropertyReadOnly");
    const std::string huge(4'000'000, 'x');
    auto *huge_argument = bus.method(kIface, "GetRunReport");
    sd_bus_message_append(huge_argument, "s", huge.c_str());
    EXPECT_EQ(bus.call(huge_argument), "org.freedesktop.DBus.Error.InvalidArgs");
    auto *path_traversal = bus.method(kIface, "GetRunReport");
    sd_bus_message_append(path_traversal, "s", "../../../../etc/passwd");
    EXPECT_EQ(bus.call(path_traversal), "org.freedesktop.DBus.Error.InvalidArgs");

    // A burst of 1,000 calls sent without waiting; every one is answered by the daemon
    // (the private bus allows as many pending replies as Debian's session bus).
    int replies = 0, errors = 0, values = 0;
    auto on_reply = [](sd_bus_message *m, void *userdata, sd_bus_error *) {
        auto *counts = static_cast<std::array<int *, 3> *>(userdata);
        ++*(*counts)[0];
        if (sd_bus_message_is_method_error(m, "io.dailysync1.Error.NoSuchRun")) ++*(*counts)[1];
        else if (!sd_bus_message_is_method_error(m, nullptr)) ++*(*counts)[2];
        return 0;
    };
    std::array<int *, 3> counts{&replies, &errors, &values};
    for (int i = 0; i < 1000; ++i) {
        sd_bus_message *m = nullptr;
        if (i % 2 == 0) {
            m = bus.method(kIface, "GetRunReport");
            sd_bus_message_append(m, "s", ("20000101T0000" + std::to_string(i % 100) + "Z").c_str());
        } else {
            m = bus.method("org.freedesktop.DBus.Properties", "Get");
            sd_bus_message_append(m, "ss", kIface, "State");
        }
        ASSERT_GE(sd_bus_call_async(bus.get(), nullptr, m, on_reply, &counts, 30'000'000), 0);
        sd_bus_message_unref(m);
    }
    for (int spins = 0; replies < 1000 && spins < 100000; ++spins)
        if (sd_bus_process(bus.get(), nullptr) == 0) sd_bus_wait(bus.get(), 100'000);
    EXPECT_EQ(replies, 1000);
    EXPECT_EQ(errors, 500);
    EXPECT_EQ(values, 500);
    auto status = s.ctl({"status", "--json"});
    EXPECT_EQ(status.exit_code, 0);
    EXPECT_EQ(nlohmann::json::parse(status.out)["state"], "idle");
    EXPECT_EQ(s.ctl({"start", "--wait"}).exit_code, 0);
    EXPECT_EQ(s.stop().exit_code, 0);
}
