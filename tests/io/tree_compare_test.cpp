// The daemon's compare of both trees against rsync as the oracle: randomized trees and
// mutations (same-size edits with a new time, mode-only, owner-only and group-only
// changes, symlink retargets, file/folder/symlink/FIFO type changes, hard links, device
// numbers, hostile names, excluded names for every pattern form, entries only in the
// backup, damage done to the backup). For each case:
//   - the entries the compare decides to change, and to delete, are exactly those
//     `rsync -a [--delete] --dry-run -i` lists (with the same excludes);
//   - the backup after the daily run's own rsyncs (plan_listed_units + rsync_arguments,
//     the list on stdin) equals, entry by entry and byte by byte, a copy of the backup
//     updated by one plain `rsync -a [--delete]`.
// The same trees, names and patterns also test the classic planner's split
// (SplitAgainstRsync, run_split_case): units split and packed at random back up exactly
// what one rsync -a [--delete] --exclude=... of the whole tree does, first and daily runs.
// DAILYSYNC_COMPARE_CASES sets the number of cases of each test (default 200 for the
// compare: 800 in the suite, and kSplitCases for the split, sized to the suite's time
// budget; at most 1,000, where the next test's seeds begin: the long variant);
// DAILYSYNC_COMPARE_SEED=N runs the case of seed N alone.
// Cases run four at a time: each spends most of its time waiting on rsync's own
// start and exit (50 cases took 13 s of wall time for 3.2 s of CPU one at a time).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <functional>
#include <fcntl.h>
#include <filesystem>
#include <random>
#include <set>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "core/names.hpp"
#include "core/rsync_command.hpp"
#include "core/rsync_output.hpp"
#include "io/local_tree.hpp"
#include "io/tree_compare.hpp"

extern char **environ;

using namespace dailysync;
namespace fs = std::filesystem;

namespace {

struct Ran {
    int status = -1;
    std::string out;
};

// argv without a shell; `input` on stdin. The pipes are close-on-exec, so a child that
// another thread starts meanwhile holds no end of them (its output would never end).
Ran run(const std::vector<std::string> &argv, const std::string &input = "") {
    int out_pipe[2], in_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC) != 0) return {};
    if (::pipe2(in_pipe, O_CLOEXEC) != 0) {
        ::close(out_pipe[0]);
        ::close(out_pipe[1]);
        return {};
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);   // rsync's complaints: its exit status says enough
    std::vector<char *> args;
    for (const auto &a : argv) args.push_back(const_cast<char *>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = 0;
    const int spawned = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(in_pipe[0]);
    ::close(out_pipe[1]);
    Ran ran;
    if (spawned != 0) {
        ::close(in_pipe[1]);
        ::close(out_pipe[0]);
        return ran;
    }
    std::size_t written = 0;
    while (written < input.size()) {
        const ssize_t n = ::write(in_pipe[1], input.data() + written, input.size() - written);
        if (n <= 0) break;
        written += static_cast<std::size_t>(n);
    }
    ::close(in_pipe[1]);
    char buffer[65536];
    for (ssize_t n; (n = ::read(out_pipe[0], buffer, sizeof buffer)) > 0;) ran.out.append(buffer, static_cast<std::size_t>(n));
    ::close(out_pipe[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ran.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return ran;
}

// Names a NAS holds, hostile ones included, and names the patterns below match.
const std::vector<std::string> kNames = {
    "a", "b", "file.txt", "name with space", "-dash", "new\nline", "back\\slash", "star*", "br[ack]et", "caf\xc3\xa9",
    "raw\xff\xfe", "x.tmp", "cache", "build", "out", "skipme", "xyz", "ac", "bc", "keep", "k", "q", "aq", "deep", "a*b", ".hidden",
    "#hash", ";semi", " lead", "trail ", "\\#101", "--delete"};

// Every pattern form: a name, a suffix, a folder only, an inner slash, "**" inside and
// leading, '?', sets (plain, negated, range), an escaped wildcard.
const std::vector<std::string> kPatterns = {"x.tmp", "*.tmp", "cache/", "build/out", "**/skip*", "x?z",       "[ab]c",
                                            "[!a]q", "deep/**/k", "a\\*b", "name with space", "br[[]ack]et", "k*/", "[a-b]",
                                            // anchored at the source's top, and slashes that cross a split
                                            "/a", "/b/", "/deep/**/k", "/*/x.tmp", "a/b", "a/**/k", "**/out/", "/#hash", "deep/k*"};

struct Case {
    std::mt19937 random;
    std::string top, source, destination, oracle;
    bool devices = true;

    explicit Case(unsigned seed) : random(seed) {
        char dir[] = "/tmp/dailysyncd-compare.XXXXXX";
        top = ::mkdtemp(dir);
        source = top + "/source";
        destination = top + "/backup";
        oracle = top + "/oracle";
        fs::create_directory(source);
    }
    ~Case() {
        if (!std::getenv("DAILYSYNC_COMPARE_KEEP")) fs::remove_all(top);
    }

    std::uint32_t pick(std::uint32_t n) { return static_cast<std::uint32_t>(random() % n); }
    std::string name() { return kNames[pick(static_cast<std::uint32_t>(kNames.size()))]; }

    void set_time(const std::string &path) {
        const struct timespec times[2] = {{1'600'000'000 + pick(100'000), static_cast<long>(pick(2) ? 0 : pick(999'999'999))},
                                          {1'600'000'000 + pick(100'000), static_cast<long>(pick(2) ? 0 : pick(999'999'999))}};
        ::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW);
    }
    void write_file(const std::string &path, std::size_t size, char fill) {
        const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_NONBLOCK, 0644);
        if (fd < 0) return;
        const std::string data(size, fill);
        [[maybe_unused]] auto n = ::write(fd, data.data(), data.size());
        ::close(fd);
    }
    // One entry of a random kind at `path` (a folder gets a few entries of its own).
    void make(const std::string &path, int depth) {
        std::error_code ignored;
        fs::remove_all(path, ignored);   // names repeat
        switch (pick(depth > 2 ? 5 : 7)) {
        case 0:
        case 1:
        case 2: write_file(path, pick(3) == 0 ? 0 : pick(3000), static_cast<char>('a' + pick(3))); break;
        case 3: (void)::symlink(pick(2) ? "target" : "../elsewhere/x", path.c_str()); break;
        case 4:
            if (pick(2) == 0) (void)::mkfifo(path.c_str(), 0640);
            else if (devices) (void)::mknod(path.c_str(), S_IFCHR | 0600, ::makedev(1, 3 + pick(2) * 2));
            else write_file(path, 10, 'd');
            break;
        default: {
            ::mkdir(path.c_str(), 0755);
            const int n = static_cast<int>(pick(5));
            for (int i = 0; i < n; ++i) make(path + "/" + name(), depth + 1);
        }
        }
        if (pick(4) == 0) ::lchown(path.c_str(), 0, pick(2) ? 0 : 100);
        if (!fs::is_symlink(path) && pick(5) == 0) ::chmod(path.c_str(), pick(2) ? 0600 : 0755);
        set_time(path);
    }
    std::vector<std::string> entries(const std::string &root) {
        std::vector<std::string> out;
        for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) out.push_back(it->path());
        return out;
    }
    void mutate(const std::string &root) {
        auto all = entries(root);
        if (all.empty() || pick(6) == 0) {
            make(root + "/" + name(), 1);
            return;
        }
        const std::string path = all[pick(static_cast<std::uint32_t>(all.size()))];
        struct stat st {};
        if (::lstat(path.c_str(), &st) != 0) return;
        switch (pick(12)) {
        case 0:   // same size, new content and a new time
            if (S_ISREG(st.st_mode) && st.st_size > 0) {
                write_file(path, static_cast<std::size_t>(st.st_size), 'z');
                set_time(path);
            }
            break;
        case 1: ::lchown(path.c_str(), 1234, static_cast<gid_t>(-1)); break;   // owner only
        case 2: ::lchown(path.c_str(), static_cast<uid_t>(-1), 4321); break;   // group only
        case 3:
            if (!S_ISLNK(st.st_mode)) ::chmod(path.c_str(), (st.st_mode & 07777) ^ 0070);   // mode only
            break;
        case 4: set_time(path); break;
        case 5:   // a symlink retargeted (or made one)
            fs::remove_all(path);
            (void)::symlink(pick(2) ? "other" : "target2", path.c_str());
            break;
        case 6:   // another type at the same name
            fs::remove_all(path);
            make(path, 2);
            break;
        case 7: fs::remove_all(path); break;
        case 8:   // a hard link to another file (in the source: the backup's files are never linked)
            if (root != source) break;
            for (const auto &other : all)
                if (other != path && fs::is_regular_file(fs::symlink_status(other))) {
                    fs::remove_all(path);
                    (void)::link(other.c_str(), path.c_str());
                    break;
                }
            break;
        case 9:
            if (S_ISDIR(st.st_mode)) make(path + "/" + name(), 2);
            break;
        case 10:   // a FIFO where something was
            fs::remove_all(path);
            (void)::mkfifo(path.c_str(), 0600);
            break;
        default:
            if (S_ISREG(st.st_mode)) write_file(path, static_cast<std::size_t>(pick(4000)), 'q');
        }
    }
};

std::vector<std::string> exclude_options(const std::vector<std::string> &patterns) {
    std::vector<std::string> out;
    for (const auto &p : patterns) out.push_back("--exclude=" + p);
    return out;
}

// rsync's itemized lines (--out-format="%i %n"): what it changes, and what it deletes.
struct Listed {
    std::set<std::string> changed, deleted;
    std::set<std::string> not_folders;   // changed entries that are no folder (in the source)
    bool root = false;
};
bool below_any(const std::string &path, const std::set<std::string> &folders);

// rsync's printable name back to the raw bytes ("\\#ooo" escapes).
std::string raw_name(const std::string &printable) {
    std::string raw;
    for (std::size_t i = 0; i < printable.size(); ++i) {
        if (printable.compare(i, 2, "\\#") == 0 && i + 5 <= printable.size()) {
            raw.push_back(static_cast<char>(std::stoi(printable.substr(i + 2, 3), nullptr, 8)));
            i += 4;
        } else {
            raw.push_back(printable[i]);
        }
    }
    return raw;
}

// `source`: to tell a type change (the name is there) from a deletion rsync could not
// finish (an excluded entry inside keeps the folder).
Listed parse_itemized(const std::string &text, const std::string &source) {
    Listed listed;
    std::set<std::string> cannots;
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        const std::string line = text.substr(start, end - start);
        start = end + 1;
        // A type change rsync cannot make without deleting a folder that is not empty
        // (no --delete): a change it decided on and reports as an error.
        static const std::string cannot = "cannot delete non-empty directory: ";
        if (line.rfind(cannot, 0) == 0) {
            cannots.insert(line.substr(cannot.size()));
            continue;
        }
        if (line.size() < 13 || line[11] != ' ' || std::string("<>ch.*").find(line[0]) == std::string::npos) continue;
        std::string name = line.substr(12);
        if (!name.empty() && name.back() == '/') name.pop_back();
        if (line.rfind("*deleting", 0) == 0) listed.deleted.insert(name);
        else if (name == ".") listed.root = true;
        else {
            listed.changed.insert(name);
            if (line[1] != 'd') listed.not_folders.insert(name);
        }
    }
    // Also said of a folder being deleted (listed as such) or of one inside another
    // that cannot go: only the topmost one not deleted is the type change.
    for (const auto &path : cannots)
        if (!listed.deleted.count(path) && !below_any(path, cannots) && !below_any(path, listed.deleted)) {
            struct stat st {};
            if (::lstat((source + "/" + raw_name(path)).c_str(), &st) != 0) {
                listed.deleted.insert(path);
                continue;
            }
            listed.changed.insert(path);
            listed.not_folders.insert(path);
        }
    return listed;
}

bool below_any(const std::string &path, const std::set<std::string> &folders) {
    for (std::size_t slash = path.find('/'); slash != std::string::npos; slash = path.find('/', slash + 1))
        if (folders.count(path.substr(0, slash))) return true;
    return false;
}

// What tells the backup from the oracle's copy, as rsync's itemized lines ("" when none).
std::string differences(const Case &c) {
    const Ran same = run({"rsync", "-a", "--delete", "--checksum", "--dry-run", "--out-format=%i %n", c.oracle + "/", c.destination + "/"});
    // A folder rsync could not delete (an excluded entry inside) keeps the time of
    // whichever deletion came last, ours or the plain rsync's: not a difference.
    std::string out;
    for (std::size_t start = 0, end; start < same.out.size(); start = end + 1) {
        end = same.out.find('\n', start);
        if (end == std::string::npos) end = same.out.size();
        const std::string line = same.out.substr(start, end - start);
        struct stat st {};
        if (line.rfind(".d..t...... ", 0) == 0 && line.size() > 12 &&
            ::lstat((c.source + "/" + raw_name(line.substr(12))).c_str(), &st) != 0)
            continue;
        out += line + "\n";
    }
    return out;
}

struct Tally {
    std::atomic<int> checked{0}, with_changes{0};
};

// One case: returns early (the failure recorded) at the first difference.
// What one plain rsync -a [--delete] --exclude=... of the whole tree makes of the oracle
// (a copy of the backup): the expected backup. Its exit status.
int plain_rsync_into_oracle(const Case &c, const std::vector<std::string> &patterns, bool deletions) {
    std::vector<std::string> plain = {"rsync", "-a"};
    if (deletions) plain.push_back("--delete");
    for (auto &e : exclude_options(patterns)) plain.push_back(e);
    plain.insert(plain.end(), {c.source + "/", c.oracle + "/"});
    return run(plain).status;
}

// The configuration a case's own rsyncs run with.
Config case_config(const Case &c, const std::vector<std::string> &patterns, bool deletions) {
    Config config;
    config.source = c.source;
    config.destination = c.destination;
    config.delete_extraneous = deletions;
    config.max_delete = DeleteLimit{DeleteLimit::Kind::unlimited, 0};
    config.exclude = patterns;
    return config;
}

void run_case(unsigned seed, bool root, Tally &tally) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Case c(seed);
    c.devices = root;
    const int top = 2 + static_cast<int>(c.pick(6));
    for (int i = 0; i < top; ++i) c.make(c.source + "/" + c.name(), 1);
    ASSERT_EQ(run({"rsync", "-a", c.source + "/", c.destination + "/"}).status, 0);
    const int changes = static_cast<int>(c.pick(8));
    for (int i = 0; i < changes; ++i) c.mutate(c.pick(5) == 0 ? c.destination : c.source);
    ::utimensat(AT_FDCWD, c.source.c_str(), nullptr, 0);
    if (c.pick(2)) c.set_time(c.source);
    std::vector<std::string> patterns;
    for (const auto &p : kPatterns)
        if (c.pick(4) == 0) patterns.push_back(p);
    const bool deletions = c.pick(4) != 0;

    // The oracle's view, then the compare's.
    std::vector<std::string> dry = {"rsync", "-a", "--dry-run", "--out-format=%i %n"};
    if (deletions) dry.push_back("--delete");
    for (auto &e : exclude_options(patterns)) dry.push_back(e);
    dry.insert(dry.end(), {c.source + "/", c.destination + "/"});
    const Ran oracle_run = run(dry);
    Listed expected = parse_itemized(oracle_run.out, c.source);

    auto rules = std::get<ExcludeRules>(ExcludeRules::compile(patterns));
    CompareSettings settings{DiffOptions{root, deletions}, &rules, 1 + c.pick(4)};
    WorkProgress progress;
    const OpenedTree source = open_local_tree(c.source, "source"), destination = open_local_tree(c.destination, "destination");
    ASSERT_TRUE(source.reader && destination.reader);
    const CompareResult result = compare_trees(*source.reader, *destination.reader, settings, progress);
    ASSERT_EQ(result.error, "");
    ASSERT_EQ(result.unreadable_count, 0u);
    Listed decided;
    decided.root = result.root_changed;
    for (const auto &g : result.groups) {
        for (const auto &p : g.paths)
            if (p != g.folder) decided.changed.insert(printable_name(p));
        for (const auto &p : g.deletions) decided.deleted.insert(printable_name(p));
    }
    // rsync names each entry of a deleted folder, and the old contents of a folder
    // that an entry of another type replaces; the compare names the folder.
    std::set<std::string> top_deleted;
    for (const auto &p : expected.deleted)
        if (!below_any(p, expected.deleted) && !below_any(p, expected.not_folders)) top_deleted.insert(p);
    // Folders left to rsync whole: what it does there is its own.
    std::set<std::string> whole;
    for (const auto &w : result.whole) whole.insert(printable_name(w));
    auto drop_whole = [&whole](std::set<std::string> &paths) {
        std::erase_if(paths, [&whole](const std::string &p) { return whole.count("") || below_any(p, whole); });
    };
    drop_whole(top_deleted);
    drop_whole(expected.changed);
    EXPECT_EQ(decided.changed, expected.changed) << oracle_run.out;
    EXPECT_EQ(decided.deleted, top_deleted) << oracle_run.out;
    EXPECT_EQ(decided.root, expected.root) << oracle_run.out;
    if (::testing::Test::HasFailure()) return;

    // The backup after the daily run's rsyncs equals one updated by a plain rsync.
    ASSERT_EQ(run({"rsync", "-a", c.destination + "/", c.oracle + "/"}).status, 0);
    const int plain_status = plain_rsync_into_oracle(c, patterns, deletions);
    const Config config = case_config(c, patterns, deletions);
    int worst = 0;
    std::string lists;   // for the failure message
    for (const auto &unit : plan_listed_units(result.groups, result.whole, 2)) {
        lists += unit.name + ":";
        for (const auto &f : unit.files) lists += " " + printable_name(f);
        lists += "\n";
        std::vector<std::string> argv = {"rsync"};
        for (auto &a : rsync_arguments(config, unit, false, "")) argv.push_back(a);
        worst = std::max(worst, run(argv, files_from_input(unit.files)).status);
    }
    // rsync itself fails where a folder must go without --delete: so must we.
    EXPECT_EQ(worst == 0, plain_status == 0) << "plain rsync exit " << plain_status << ", ours " << worst;
    EXPECT_EQ(differences(c), "") << "the backup differs from rsync's; lists:\n" << lists << "oracle:\n" << oracle_run.out;
    if (::testing::Test::HasFailure()) return;
    ++tally.checked;
    if (!result.groups.empty() || !result.whole.empty()) ++tally.with_changes;
}

// The classic planner's units, split and packed at random, against one rsync of the whole
// tree: the same backup whatever the split (each rsync names its entries from the
// source's top, so a pattern with '/', "**" or an anchor means the same in every unit).
// Units run as the daemon runs them: a folder's own entries first (rsync --dirs), its
// subfolders named by that rsync's output, then each subfolder whole, packed with
// siblings into one rsync, or split again. `full`: into an empty backup (a first run);
// else into a backup of the source changed on both sides (a daily run).
void run_split_case(unsigned seed, bool root, bool full, Tally &tally) {
    SCOPED_TRACE("seed " + std::to_string(seed) + (full ? " (first run)" : " (daily run)"));
    Case c(seed);
    c.devices = root;
    // Projects: folders at the top, with folders inside, so that there is much to split.
    const int top = 2 + static_cast<int>(c.pick(5));
    for (int i = 0; i < top; ++i) {
        const std::string project = c.source + "/" + c.name();
        std::error_code ignored;
        fs::remove_all(project, ignored);
        ::mkdir(project.c_str(), 0755);
        const int inside = 2 + static_cast<int>(c.pick(5));
        for (int j = 0; j < inside; ++j) c.make(project + "/" + c.name(), c.pick(2) ? 1 : 2);
    }
    if (c.pick(2)) c.make(c.source + "/" + c.name(), 2);
    fs::create_directory(c.destination);
    if (!full) {
        ASSERT_EQ(run({"rsync", "-a", c.source + "/", c.destination + "/"}).status, 0);
        const int changes = 1 + static_cast<int>(c.pick(8));
        for (int i = 0; i < changes; ++i) c.mutate(c.pick(5) == 0 ? c.destination : c.source);
    }
    std::vector<std::string> patterns;
    for (const auto &p : kPatterns)
        if (c.pick(4) == 0) patterns.push_back(p);
    const bool deletions = c.pick(4) != 0;
    ASSERT_EQ(run({"rsync", "-a", c.destination + "/", c.oracle + "/"}).status, 0);
    const int plain_status = plain_rsync_into_oracle(c, patterns, deletions);

    const Config config = case_config(c, patterns, deletions);
    std::deque<WorkUnit> queue;
    queue.push_back(WorkUnit{});
    queue.back().recursive = false;
    int worst = 0;
    std::string units;   // for the failure message
    while (!queue.empty()) {
        const WorkUnit unit = std::move(queue.front());
        queue.pop_front();
        units += "[" + printable_name(unit.base) + "]" + (unit.recursive ? "" : " own entries");
        for (const auto &m : unit.members) units += " " + printable_name(m);
        units += "\n";
        std::vector<std::string> argv = {"rsync"};
        for (auto &a : rsync_arguments(config, unit, false, "")) argv.push_back(a);
        const Ran ran = run(argv);
        worst = std::max(worst, ran.status);
        if (unit.recursive) continue;
        // The subfolders its output names, as the daemon reads them.
        std::vector<std::string> subfolders;
        RsyncStdoutParser parser(false, rsync_name_prefix(unit));
        parser.on_item([&subfolders](const ItemLine &item) {
            if (item.deletion || item.type != 'd' || item.name == "./" || item.name.back() != '/') return;
            const std::string name = unescape_rsync_name(item.name.substr(0, item.name.size() - 1));
            if (name.find('/') == std::string::npos) subfolders.push_back(name);
        });
        parser.feed(ran.out);
        parser.finish();
        std::vector<std::string> pool;
        for (auto &sub : subfolders) {
            if (c.pick(3) == 0) {
                WorkUnit own;
                own.base = join_path(unit.base, sub);
                own.recursive = false;
                queue.push_back(std::move(own));
            } else {
                pool.push_back(std::move(sub));
            }
        }
        while (!pool.empty()) {
            const std::size_t take = 1 + c.pick(static_cast<std::uint32_t>(pool.size()));
            WorkUnit packed;
            if (take == 1) {
                packed.base = join_path(unit.base, pool.back());
            } else {
                packed.base = unit.base;
                packed.members.assign(pool.end() - static_cast<std::ptrdiff_t>(take), pool.end());
            }
            pool.resize(pool.size() - take);
            queue.push_back(std::move(packed));
        }
    }
    // rsync itself fails where a folder must go without --delete: so must we.
    EXPECT_EQ(worst == 0, plain_status == 0) << "plain rsync exit " << plain_status << ", ours " << worst << "; units:\n" << units;
    EXPECT_EQ(differences(c), "") << "the backup differs from one rsync's; units:\n" << units;
    if (::testing::Test::HasFailure()) return;
    ++tally.checked;
    if (std::count(units.begin(), units.end(), '\n') > 2) ++tally.with_changes;
}

// Each split case runs a dozen rsyncs or so: fewer of them fit the suite's time.
constexpr int kSplitCases = 80;

using CaseFunction = std::function<void(unsigned seed, bool root, Tally &tally)>;

// `counted`: what Tally::with_changes counts, for the closing line.
void run_cases(unsigned first_seed, const CaseFunction &one_case, const char *counted = "with changes", int default_cases = 200) {
    const char *env = std::getenv("DAILYSYNC_COMPARE_CASES");
    int cases = env ? std::atoi(env) : default_cases;
    if (const char *one = std::getenv("DAILYSYNC_COMPARE_SEED")) {   // one case again
        first_seed = static_cast<unsigned>(std::atoi(one));
        cases = 1;
    }
    const bool root = ::geteuid() == 0;
    Tally tally;
    std::atomic<int> next{0};
    auto worker = [&] {
        // After a failure no new case starts (the cases in flight still finish): each
        // failure names its seed, to run alone with DAILYSYNC_COMPARE_SEED.
        for (int n; !::testing::Test::HasFailure() && (n = next++) < cases;) {
            const unsigned seed = first_seed + static_cast<unsigned>(n);
            try {
                one_case(seed, root, tally);
            } catch (const std::exception &e) {   // escaping a thread, it would end the program
                ADD_FAILURE() << "seed " << seed << ": " << e.what();
            }
        }
    };
    std::vector<std::thread> workers;
    for (int i = 0; i < 4; ++i) workers.emplace_back(worker);
    for (auto &w : workers) w.join();
    if (!::testing::Test::HasFailure()) {
        EXPECT_EQ(tally.checked.load(), cases);
    }
    std::cout << tally.checked << " cases, " << tally.with_changes << " " << counted << ": the same as rsync\n";
}
}  // namespace

TEST(CompareAgainstRsync, RandomTreesA) { run_cases(1000, run_case); }
TEST(CompareAgainstRsync, RandomTreesB) { run_cases(2000, run_case); }
TEST(CompareAgainstRsync, RandomTreesC) { run_cases(3000, run_case); }
TEST(CompareAgainstRsync, RandomTreesD) { run_cases(4000, run_case); }

TEST(SplitAgainstRsync, FirstRuns) {
    run_cases(5000, [](unsigned seed, bool root, Tally &tally) { run_split_case(seed, root, true, tally); }, "in more than two units", kSplitCases);
}
TEST(SplitAgainstRsync, DailyRuns) {
    run_cases(6000, [](unsigned seed, bool root, Tally &tally) { run_split_case(seed, root, false, tally); }, "in more than two units", kSplitCases);
}
