// The trees' port on a folder of this machine (io/tree_reader.hpp, io/local_tree.hpp),
// with real files: each entry as lstat() sees it, no symlink followed on the way to a
// folder, errors as errno, a cancel honoured, and a compare through the ports that names
// the side it cannot read, also when its top folder opens but cannot be listed.
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

#include "io/local_tree.hpp"
#include "io/tree_compare.hpp"

using namespace dailysync;
namespace fs = std::filesystem;

namespace {
struct Folder {
    std::string root;
    Folder() {
        char dir[] = "/tmp/dailysyncd-local-tree.XXXXXX";
        root = ::mkdtemp(dir);
    }
    ~Folder() { fs::remove_all(root); }
};

// A real tree whose top folder opened but can no longer be listed (a stale handle after
// the NAS was remounted): no local folder does that on demand.
class StaleTop final : public TreeReader {
public:
    explicit StaleTop(const TreeReader &real) : real_(real) {}
    const std::string &location() const override { return real_.location(); }
    std::optional<FsEntry> root() const override { return real_.root(); }
    Listing list(const std::string &relative, WorkProgress &progress) const override {
        if (relative.empty()) return Listing{{}, ESTALE};
        return real_.list(relative, progress);
    }

private:
    const TreeReader &real_;
};

const FsEntry *named(const Listing &listing, const std::string &name) {
    auto it = std::find_if(listing.entries.begin(), listing.entries.end(), [&](const FsEntry &e) { return e.name == name; });
    return it == listing.entries.end() ? nullptr : &*it;
}
}  // namespace

TEST(LocalTree, ListsEachEntryAsLstatSeesItAndFollowsNoSymlinkOnTheWay) {
    Folder f;
    fs::create_directories(f.root + "/sub/deeper");
    std::ofstream(f.root + "/sub/data") << "12345";
    ::chmod((f.root + "/sub/data").c_str(), 0640);
    fs::create_directory_symlink(f.root + "/sub", f.root + "/link");
    ::mkfifo((f.root + "/sub/fifo").c_str(), 0600);
    ::chmod(f.root.c_str(), 0750);

    const OpenedTree tree = open_local_tree(f.root, "source");
    ASSERT_TRUE(tree.reader) << tree.error;
    WorkProgress progress;

    const Listing top = tree.reader->list("", progress);
    ASSERT_EQ(top.error, 0);
    ASSERT_EQ(top.entries.size(), 2u);
    ASSERT_TRUE(named(top, "link"));
    EXPECT_EQ(named(top, "link")->type, EntryType::symlink);
    EXPECT_EQ(named(top, "link")->link, f.root + "/sub");
    EXPECT_EQ(named(top, "sub")->type, EntryType::dir);
    EXPECT_EQ(named(top, "sub")->size, 0u);

    const Listing sub = tree.reader->list("sub", progress);
    ASSERT_EQ(sub.error, 0);
    ASSERT_EQ(sub.entries.size(), 3u);
    EXPECT_EQ(named(sub, "data")->type, EntryType::file);
    EXPECT_EQ(named(sub, "data")->size, 5u);
    EXPECT_EQ(named(sub, "data")->permissions, 0640u);
    EXPECT_EQ(named(sub, "fifo")->type, EntryType::special);
    EXPECT_EQ(named(sub, "fifo")->format, static_cast<std::uint32_t>(S_IFIFO));
    EXPECT_EQ(progress.steps.load(), 5u);   // one step per entry read

    // A symlink to a folder is an entry, never a way in; a folder gone is ENOENT.
    EXPECT_NE(tree.reader->list("link", progress).error, 0);
    EXPECT_NE(tree.reader->list("link/deeper", progress).error, 0);
    EXPECT_EQ(tree.reader->list("gone", progress).error, ENOENT);

    const auto root = tree.reader->root();
    ASSERT_TRUE(root);
    EXPECT_EQ(root->type, EntryType::dir);
    EXPECT_EQ(root->permissions, 0750u);

    // Cancelled: the listing stops before its first entry.
    progress.cancelled = true;
    EXPECT_TRUE(tree.reader->list("sub", progress).entries.empty());
}

TEST(LocalTree, TheRootIsReadThroughTheDescriptorOpenedFirst) {
    Folder f;
    fs::create_directories(f.root + "/tree/a");
    const OpenedTree tree = open_local_tree(f.root + "/tree", "destination");
    ASSERT_TRUE(tree.reader);
    // Moved away after it was opened (a remount under the same name): still the same tree.
    fs::rename(f.root + "/tree", f.root + "/moved");
    fs::create_directories(f.root + "/tree/b");
    WorkProgress progress;
    const Listing top = tree.reader->list("", progress);
    ASSERT_EQ(top.entries.size(), 1u);
    EXPECT_EQ(top.entries[0].name, "a");
}

TEST(LocalTree, ACompareThroughThePortsNamesTheSideItCannotRead) {
    Folder f;
    fs::create_directories(f.root + "/prod/alpha");
    Config config;
    config.source = f.root + "/prod";
    config.destination = f.root + "/missing";
    auto rules = std::get<ExcludeRules>(ExcludeRules::compile({}));
    const CompareSettings settings{DiffOptions{false, true}, &rules, 2};
    WorkProgress progress;
    CompareResult result = compare_trees(*local_source(config), *local_destination(config), settings, progress);
    EXPECT_EQ(result.error, "cannot read the destination " + config.destination + ": No such file or directory");

    std::swap(config.source, config.destination);
    result = compare_trees(*local_source(config), *local_destination(config), settings, progress);
    EXPECT_EQ(result.error, "cannot read the source " + config.source + ": No such file or directory");

    // Both there: the compare runs through the same ports and finds alpha new.
    config.source = f.root + "/prod";
    config.destination = f.root + "/backup";
    fs::create_directories(config.destination);
    result = compare_trees(*local_source(config), *local_destination(config), settings, progress);
    ASSERT_EQ(result.error, "");
    EXPECT_EQ(result.counts.created, 1u);
    EXPECT_EQ(result.counts.compared, 1u);
}

TEST(LocalTree, ATopFolderThatOpensButCannotBeListedIsNamedWithItsSide) {
    Folder f;
    fs::create_directories(f.root + "/prod/alpha");
    fs::create_directories(f.root + "/backup");
    const OpenedTree source = open_local_tree(f.root + "/prod", "source");
    const OpenedTree destination = open_local_tree(f.root + "/backup", "destination");
    ASSERT_TRUE(source.reader && destination.reader);
    auto rules = std::get<ExcludeRules>(ExcludeRules::compile({}));
    const CompareSettings settings{DiffOptions{false, true}, &rules, 2};
    WorkProgress progress;
    EXPECT_EQ(compare_trees(*source.reader, StaleTop(*destination.reader), settings, progress).error,
              "cannot read the destination " + f.root + "/backup: Stale file handle");
    EXPECT_EQ(compare_trees(StaleTop(*source.reader), *destination.reader, settings, progress).error,
              "cannot read the source " + f.root + "/prod: Stale file handle");
    // The first run's scan reads through the same port.
    EXPECT_EQ(scan_tree(StaleTop(*source.reader), progress, 2).error, "cannot read the source " + f.root + "/prod: Stale file handle");
    EXPECT_EQ(scan_tree(*source.reader, progress, 2).tree.total_entries(), 2u);
}

// What the destination port writes besides rsync (a killed rsync's temporaries removed,
// a damaged file marked for the next copy) reaches its folder through no symlink: one
// planted in the backup leads nowhere.
TEST(LocalTree, TheDestinationWritesThroughNoSymlinkOnTheWay) {
    Folder f;
    fs::create_directories(f.root + "/backup/real");
    fs::create_directories(f.root + "/outside");
    for (const char *file : {"/outside/f", "/outside/.f.AbC123", "/backup/real/f"}) std::ofstream(f.root + file) << "x";
    fs::create_directory_symlink(f.root + "/outside", f.root + "/backup/planted");
    Config config;
    config.destination = f.root + "/backup";
    const auto destination = local_destination(config);
    struct stat before {};
    ASSERT_EQ(::stat((f.root + "/outside/f").c_str(), &before), 0);
    EXPECT_EQ(destination->mark_for_copy("planted/f").error(), "its folder is not where the backup has it (a symlink on the way, or gone)");
    EXPECT_FALSE(destination->remove("planted/.f.AbC123").ok());
    EXPECT_EQ(destination->list("planted").status(), Loaded<std::vector<std::string>>::Status::missing);
    struct stat after {};
    ASSERT_EQ(::stat((f.root + "/outside/f").c_str(), &after), 0);
    EXPECT_EQ(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
    EXPECT_TRUE(fs::exists(f.root + "/outside/.f.AbC123"));
    // Through real folders they work.
    EXPECT_EQ(destination->list("real").take(), std::optional<std::vector<std::string>>(std::vector<std::string>{"f"}));
    EXPECT_TRUE(destination->mark_for_copy("real/f").ok());
    ASSERT_EQ(::stat((f.root + "/backup/real/f").c_str(), &after), 0);
    EXPECT_EQ(after.st_mtim.tv_sec, 1);
    EXPECT_EQ(destination->mark_for_copy("real").error(), "not a regular file any more");
    EXPECT_TRUE(destination->remove("real/f").ok());
    EXPECT_FALSE(fs::exists(f.root + "/backup/real/f"));
}
