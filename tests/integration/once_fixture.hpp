// A source and destination under a temporary folder, a tree with every kind of entry and
// hostile name, and the report of a `dailysyncd --once` run: shared by the --once tests.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <string>
#include <unistd.h>
#include <vector>

#include "helpers.hpp"

namespace testing_support {

// The hostile names every test tree carries, as projects and as files inside a project.
inline const std::vector<std::string> kOddNames = {
    "--delete", "-e sh -c 'touch pwned'", " leading space", "new\nline", "carriage\rreturn", "*", "[ab]?",
    "back\\slash", "quote\"s", "latin1-\xe9t\xe9", "caf\xc3\xa9", "-", "--", "$(touch pwned)", "`touch pwned`",
    std::string(250, 'n') + "-long"};   // NAME_MAX is 255

struct Fixture {
    TempDir dir;
    std::string source = dir / "prod";
    std::string destination = dir / "backup";
    std::string state = dir / "state";

    Fixture() {
        make_dirs(source);
        make_dirs(destination);
    }

    void build_tree() {
        // alpha: nested folders, modes, an empty folder, symlinks (one dangling)
        make_dirs(source + "/alpha/edit/reel1");
        make_dirs(source + "/alpha/empty");
        for (int i = 0; i < 30; ++i) write_file(source + "/alpha/edit/reel1/shot" + std::to_string(i), std::string(100 + i, 'a' + i % 26));
        write_file(source + "/alpha/edit/master.mov", std::string(3'000'000, 'm'));
        write_file(source + "/alpha/private", "secret", 0600);
        write_file(source + "/alpha/tool.sh", "#!/bin/sh\n", 0755);
        ::symlink("edit/master.mov", (source + "/alpha/latest").c_str());
        ::symlink("/nonexistent/target", (source + "/alpha/dangling").c_str());
        make_dirs(source + "/beta");
        write_file(source + "/beta/readme", "beta\n");
        make_dirs(source + "/odd");
        for (const auto &name : kOddNames) {
            write_file(source + "/odd/" + name, "file " + name);
            make_dirs(source + "/" + name);
            write_file(source + "/" + name + "/inside", "project " + name);
        }
        write_file(source + "/top-level-file", "top\n");
        ::symlink("alpha", (source + "/alpha-link").c_str());
        age_tree(source);
    }

    std::string config(const std::string &extra = "") const {
        return write_config(dir, R"({"source": ")" + source + R"(", "destination": ")" + destination + R"(", "state_dir": ")" +
                                     state + R"(")" + (extra.find("\"retries\"") == std::string::npos ? R"(, "retries": 0)" : "") +
                                     (extra.empty() ? "" : ", " + extra) + "}");
    }

    nlohmann::json report(const std::string &stdout_text) const {
        auto at = stdout_text.find("report: ");
        EXPECT_NE(at, std::string::npos) << stdout_text;
        std::string path = stdout_text.substr(at + 8);
        path = path.substr(0, path.find('\n'));
        return parsed_report(read_file(path));
    }
};

}  // namespace testing_support
