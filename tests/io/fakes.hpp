// In-memory endpoints and a scripted launcher: a run's io driven without one process or
// file. FakeSource and FakeDestination hold their entries in maps (a test edits them to
// make a folder vanish or a check fail); FakeLauncher hands out FakeChild handles that a
// test makes print rsync's output lines and exit as it likes.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <csignal>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "io/child_launcher.hpp"
#include "io/destination.hpp"
#include "io/source.hpp"

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
    std::vector<std::string> list(const std::string &folder) const override { return tree.below(folder); }
    void remove(const std::string &relative) const override { const_cast<FakeTree &>(tree).erase(relative); }
    std::string mark_for_copy(const std::string &relative) const override {
        auto facts = tree.get(relative);
        if (!facts) return "not there";
        facts->mtime = 1;
        const_cast<FakeTree &>(tree).put(relative, *facts);
        return {};
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

}  // namespace dailysync::testing_fakes
