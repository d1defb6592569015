// In-memory endpoints and a scripted launcher: a run's io driven without one process or
// file. FakeSource and FakeDestination hold their entries in maps (a test edits them to
// make a folder vanish or a check fail); FakeLauncher hands out FakeChild handles that a
// test makes print rsync's output lines and exit as it likes.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <atomic>
#include <chrono>
#include <thread>
#include <csignal>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "io/child_launcher.hpp"
#include "io/destination.hpp"
#include "io/endpoints.hpp"
#include "io/run_records.hpp"
#include "io/run_versions.hpp"
#include "io/source.hpp"
#include "service/hook_runner.hpp"

namespace dailysync::testing_fakes {

// Entries by path relative to the root; the maps are shared with the worker threads, so
// every access takes the lock.
class FakeTree {
public:
    void put(const std::string &relative, EntryFacts facts) {
        std::lock_guard lock(mutex_);
        entries_[relative] = facts;
    }
    void erase(const std::string &relative) {
        std::lock_guard lock(mutex_);
        entries_.erase(relative);
    }
    std::optional<EntryFacts> get(const std::string &relative) const {
        std::lock_guard lock(mutex_);
        const auto it = entries_.find(relative);
        return it == entries_.end() ? std::nullopt : std::optional<EntryFacts>(it->second);
    }
    std::vector<std::string> below(const std::string &folder) const {
        std::lock_guard lock(mutex_);
        std::vector<std::string> names;
        const std::string prefix = folder.empty() ? "" : folder + "/";
        for (const auto &[path, facts] : entries_)
            if (path.size() > prefix.size() && path.compare(0, prefix.size(), prefix) == 0 && path.find('/', prefix.size()) == std::string::npos)
                names.push_back(path);
        return names;
    }

private:
    mutable std::mutex mutex_;
    std::map<std::string, EntryFacts> entries_;
};

class FakeSource final : public Source {
public:
    explicit FakeSource(std::string location) : location_(std::move(location)) {}
    FakeTree tree;
    std::optional<Problem> problem;   // what check() answers
    FolderIdentity id{1, 2};          // what identity() answers (another one: a different filesystem there)
    const std::string &location() const override { return location_; }
    std::optional<Problem> check(std::uint64_t) const override { return problem; }
    std::optional<FolderIdentity> identity() const override { return id; }
    bool remote() const override { return false; }
    std::optional<EntryFacts> entry(const std::string &relative, std::string *) const override { return tree.get(relative); }
    // The first run's scan and the daily compare read the tree whole: not what these fakes are for.
    ScanResult scan(WorkProgress &) const override { return ScanResult{{}, "a fake source is not scanned", 0}; }
    OpenedTree open_tree() const override { return OpenedTree{nullptr, "a fake source is not compared"}; }

private:
    std::string location_;
};

class FakeDestination final : public Destination {
public:
    FakeTree tree;
    std::optional<Problem> problem;
    std::optional<Problem> check() const override { return problem; }
    bool remote() const override { return false; }
    std::optional<EntryFacts> entry(const std::string &relative) const override { return tree.get(relative); }
    Loaded<std::vector<std::string>> list(const std::string &folder) const override {
        return Loaded<std::vector<std::string>>::found(tree.below(folder));
    }
    Done remove(const std::string &relative) const override {
        const_cast<FakeTree &>(tree).erase(relative);
        return Done::success();
    }
    Done mark_for_copy(const std::string &relative) const override {
        auto facts = tree.get(relative);
        if (!facts) return Done::failure("not there");
        facts->mtime = 1;
        const_cast<FakeTree &>(tree).put(relative, *facts);
        return Done::success();
    }
    OpenedTree open_tree() const override { return OpenedTree{nullptr, "a fake destination is not compared"}; }
};

// A child that does what the test says: print rsync's lines, exit with a code. A
// terminate() ends it by that signal, as rsync does on SIGTERM.
class FakeChild final : public Child, public std::enable_shared_from_this<FakeChild> {
public:
    FakeChild(boost::asio::io_context &io, ChildOptions options, OnOutput on_output, OnExit on_exit)
        : options(std::move(options)), io_(io), on_output_(std::move(on_output)), on_exit_(std::move(on_exit)) {}
    ChildOptions options;
    std::vector<std::chrono::seconds> terminated;   // each terminate()'s grace

    // One line of rsync's stdout, read by rsync's own parser as RsyncChild reads it.
    void print(const std::string &line) {
        if (!parser_) {
            parser_.emplace(options.dry_run, options.name_prefix);
            if (options.on_item) parser_->on_item(options.on_item);
        }
        parser_->feed(line + "\n");
        if (on_output_) on_output_();
    }
    void exit(int code) { end(ChildExit{true, code, 0, {}, false}); }
    bool exited() const { return exited_; }

    TransferCounters counters() const override { return parser_ ? parser_->counters() : TransferCounters{}; }
    std::uint64_t bytes_done() const override { return 0; }
    ErrorSummary errors() const override { return {}; }
    std::vector<std::string> recent_transfers() const override { return {}; }
    pid_t process_group() const override { return -1; }
    void terminate(std::chrono::seconds grace) override {
        terminated.push_back(grace);
        boost::asio::post(io_, [self = shared_from_this()] { self->end(ChildExit{true, -1, SIGTERM, {}, false}); });
    }

private:
    void end(ChildExit exit) {
        if (exited_) return;
        exited_ = true;
        on_exit_(exit);
    }
    boost::asio::io_context &io_;
    OnOutput on_output_;
    OnExit on_exit_;
    std::optional<RsyncStdoutParser> parser_;
    bool exited_ = false;
};

class FakeLauncher final : public ChildLauncher {
public:
    explicit FakeLauncher(boost::asio::io_context &io) : io_(io) {}
    std::vector<std::shared_ptr<FakeChild>> children;   // in the order launched
    std::shared_ptr<Child> launch(ChildOptions options, Child::OnOutput on_output, Child::OnExit on_exit) override {
        children.push_back(std::make_shared<FakeChild>(io_, std::move(options), std::move(on_output), std::move(on_exit)));
        return children.back();
    }
    Resolver resolver() const override {
        return [](const std::string &program) { return program == "rsync" ? std::string("/usr/bin/rsync") : std::string(); };
    }
    // The child launched for the unit whose folder is `base` (its last argument names it).
    std::shared_ptr<FakeChild> child_of(const std::string &base) const {
        for (auto it = children.rbegin(); it != children.rend(); ++it)
            for (const auto &argument : (*it)->options.arguments)
                if (argument.find("/./" + base + "/") != std::string::npos || argument.ends_with("/./" + base)) return *it;
        return nullptr;
    }

private:
    boost::asio::io_context &io_;
};

// Versions as a list of what was asked of them. `hold_prune`: prune() waits (on its
// worker) until the test sets it back to false: a merge under way.
class FakeVersions final : public RunVersions {
public:
    std::vector<std::string> calls() const {
        std::lock_guard lock(mutex_);
        return calls_;
    }
    std::atomic<bool> hold_prune{false};
    mutable std::atomic<bool> pruning{false};
    std::atomic<bool> hold_trash{false};   // empty_trash() waits likewise

    Began begin_run(const std::string &run_id, std::int64_t, bool, std::optional<std::int64_t>) const override {
        (void)note("begin " + run_id);
        return Began{"/dst/.dailysync-versions/" + run_id + "/back", "/dst/.dailysync-versions/" + run_id + "/created", "/dst/scratch", {}, {}};
    }
    Done keep_from(const std::string &scratch, const std::function<void()> &) const override { return note("keep_from " + scratch); }
    Done retire_scratch(const std::string &into) const override { return note("retire " + into); }
    Done append_created(const std::string &, const std::vector<std::string> &entries) const override {
        return note("created " + std::to_string(entries.size()));
    }
    Done finish_run(const std::string &run_id, std::int64_t, const std::string &result) const override {
        return note("finish " + run_id + " " + result);
    }
    Done note_unversioned_run() const override { return note("unversioned"); }
    Pruned prune(const VersionsPolicy &, const std::function<void()> &step, std::chrono::seconds) const override {
        (void)note("prune");
        pruning = true;
        while (hold_prune) {
            if (step) step();   // progress: the merge is alive, its deadline does not pass
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        return Pruned{{"20261101T020000Z"}, 0, {}};
    }
    Done empty_trash(const std::function<void()> &) const override {
        while (hold_trash) std::this_thread::sleep_for(std::chrono::milliseconds(5));
        return note("empty_trash");
    }
    Loaded<std::string> listing(const std::string &, bool) const override { return Loaded<std::string>::found("[]"); }

private:
    Done note(const std::string &call) const {
        std::lock_guard lock(mutex_);
        calls_.push_back(call);
        return Done::success();
    }
    mutable std::mutex mutex_;
    mutable std::vector<std::string> calls_;
};

// The state folder in memory: statistics to plan from, the reports written.
class FakeRecords final : public RunRecords {
public:
    explicit FakeRecords(std::optional<TreeStats> stats) : stats_(std::move(stats)) {}
    std::vector<std::string> reports() const {
        std::lock_guard lock(mutex_);
        return reports_;
    }
    bool saved_stats() const {
        std::lock_guard lock(mutex_);
        return saved_stats_;
    }
    std::string allocate_run_id(std::chrono::system_clock::time_point) const override { return "20261206T020000Z"; }
    std::string report_path(const std::string &run_id) const override { return "/state/runs/" + run_id + ".json"; }
    Done write_report(const std::string &, const std::string &json) const override {
        std::lock_guard lock(mutex_);
        reports_.push_back(json);
        return Done::success();
    }
    Loaded<TreeStats> load_tree_stats() const override { return stats_ ? Loaded<TreeStats>::found(*stats_) : Loaded<TreeStats>::missing(); }
    std::optional<std::int64_t> tree_stats_time() const override { return stats_ ? std::optional<std::int64_t>(1000) : std::nullopt; }
    Done save_tree_stats(const TreeStats &) const override {
        std::lock_guard lock(mutex_);
        saved_stats_ = true;
        return Done::success();
    }
    Loaded<int> load_concurrency() const override { return Loaded<int>::missing(); }
    Done save_concurrency(int) const override { return Done::success(); }

private:
    std::optional<TreeStats> stats_;
    mutable std::mutex mutex_;
    mutable std::vector<std::string> reports_;
    mutable bool saved_stats_ = false;
};

// Hook stages that run no command: each answers one outcome (ok, or the exit status a
// test sets for its stage) from the loop; a cancel makes it a cancelled one.
class FakeHooks {
public:
    struct Started {
        HookStage stage;
        int timeout_seconds;
    };
    std::vector<Started> started;
    std::map<HookStage, int> exit_code;   // 0 when not set

    HookStarter starter() {
        return [this](boost::asio::io_context &io, const Config &config, HookStage stage, const HookContext &, HookStageRun::OnLine,
                      HookStageRun::OnDone on_done) -> std::shared_ptr<HookStageRun> {
            started.push_back(Started{stage, config.hooks.timeout_seconds});
            auto run = std::make_shared<Stage>();
            HookOutcome outcome;
            outcome.stage = stage;
            outcome.argv = {"fake"};
            outcome.exit_code = exit_code.count(stage) ? exit_code.at(stage) : 0;
            boost::asio::post(io, [run, outcome, on_done = std::move(on_done)]() mutable {
                outcome.cancelled = run->cancelled;
                on_done({outcome});
            });
            return run;
        };
    }

private:
    struct Stage final : HookStageRun {
        bool cancelled = false;
        void cancel() override { cancelled = true; }
    };
};

// Endpoints of fakes, for a run's EndpointFactory.
inline EndpointFactory fake_endpoints(std::shared_ptr<FakeSource> source, std::shared_ptr<FakeDestination> destination,
                                      std::shared_ptr<FakeVersions> versions, std::shared_ptr<FakeRecords> records) {
    return [=](const Config &) {
        RunEndpoints e{source, destination, versions, records, {}, {}, {}};
        e.places_problem = [] { return std::optional<Problem>(); };
        e.device = [](Side) { return std::optional<BlockDevice>(); };
        e.lock_identity = [] { return std::optional<std::string>("fake-destination"); };
        return e;
    };
}

}  // namespace dailysync::testing_fakes
