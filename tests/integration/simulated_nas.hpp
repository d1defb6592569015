// A NAS for the tests that need one: DIR/nas/{prod,backup} served by sshd in a private
// network namespace, mounted at DIR/mnt/{prod,backup} through a proxy adding `rtt_us` of
// round trip (scripts/simulated-nas.sh). Header-only: it needs LATENCY_PROXY_BINARY,
// which only the binaries that build latency_proxy define.
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "helpers.hpp"

namespace testing_support {

struct SimulatedNas {
    TempDir dir;
    std::string script = std::string(SOURCE_DIR) + "/scripts/simulated-nas.sh";
    std::vector<std::string> env = {"LATENCY_PROXY=" LATENCY_PROXY_BINARY};
    bool up = false;
    bool frozen = false;

    // `client_timeout_s`: the mounts give up on a NAS silent for about that long
    // (NAS_CLIENT_TIMEOUT); without it a request the NAS never answers waits for ever.
    explicit SimulatedNas(int rtt_us, std::optional<int> client_timeout_s = std::nullopt) {
        if (client_timeout_s) env.push_back("NAS_CLIENT_TIMEOUT=" + std::to_string(*client_timeout_s));
        auto r = run({script, "up", dir.path(), std::to_string(rtt_us), "prod", "backup"}, env);
        up = r.exit_code == 0;
        EXPECT_TRUE(up) << r.out << r.err;
    }
    ~SimulatedNas() {
        if (frozen) thaw();
        run({script, "down", dir.path()}, env);
    }
    // The NAS stops answering (every byte to it held) / answers again.
    void freeze() {
        ASSERT_EQ(run({script, "freeze", dir.path()}, env).exit_code, 0);
        frozen = true;
    }
    void thaw() {
        ASSERT_EQ(run({script, "thaw", dir.path()}, env).exit_code, 0);
        frozen = false;
    }
    std::string served(const std::string &share) const { return dir / ("nas/" + share); }
    std::string mounted(const std::string &share) const { return dir / ("mnt/" + share); }
};

}  // namespace testing_support
