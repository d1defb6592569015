// The versions folder on a real disk: what a later rsync of a unit kept is merged without
// replacing what the first kept, a retention merge cut short is finished, a version is
// put together and staged as hard links, and removing the staging tree leaves the backup
// untouched.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

#include "io/state_store.hpp"
#include "io/version_store.hpp"

using namespace dailysync;

namespace {
struct Folder {
    std::string path;
    Folder() {
        char dir[] = "/tmp/dailysyncd-versions.XXXXXX";
        path = ::mkdtemp(dir);
    }
    ~Folder() { std::system(("rm -rf '" + path + "'").c_str()); }
};
void put(const std::string &path, const std::string &content) {
    ASSERT_TRUE(make_directories(path.substr(0, path.rfind('/'))).ok());
    std::ofstream(path) << content;
}
std::string get(const std::string &path) {
    std::ifstream in(path);
    if (!in) return "<absent>";
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}
bool exists(const std::string &path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}
void record(const VersionStore &store, const std::string &id, std::int64_t at, bool chain_start = false) {
    put(store.root() + "/" + id + "/version.json", point_json(VersionPoint{id, at, "success", chain_start}));
}
}  // namespace

TEST(VersionStore, WhatALaterRsyncKeptNeverReplacesWhatTheFirstKept) {
    Folder dir;
    const VersionStore store(dir.path);
    ASSERT_TRUE(make_directories(store.root()).ok());
    record(store, "P", 100, true);
    put(store.back_dir("P") + "/a/F", "v0");                        // the first rsync kept F as it was at P
    ASSERT_TRUE(store.append_created(store.created_path("P"), {"a/X"}).ok());   // and made X
    const std::string scratch = store.root() + "/.scratch-P/1";
    put(scratch + "/a/F", "v1");   // the deletion pass replaced F again, and X, and Y for the first time
    put(scratch + "/a/X", "vX");
    put(scratch + "/a/Y", "vY");
    put(scratch + "/a/T", "a file");   // and made T a symlink: it kept the file, noted the link
    ASSERT_TRUE(store.append_created(VersionStore::scratch_created_path(scratch), {"a/T", "a/N"}).ok());
    ASSERT_TRUE(store.keep_from(scratch).ok());
    EXPECT_EQ(get(store.back_dir("P") + "/a/F"), "v0");
    EXPECT_EQ(get(store.back_dir("P") + "/a/X"), "<absent>");   // X was not there at P
    EXPECT_EQ(get(store.back_dir("P") + "/a/Y"), "vY");
    EXPECT_EQ(get(store.back_dir("P") + "/a/T"), "a file");
    EXPECT_FALSE(exists(VersionStore::scratch_created_path(scratch)));
    ASSERT_TRUE(store.retire_scratch("P").ok());   // what is left goes aside at the run's end
    EXPECT_FALSE(exists(store.root() + "/.scratch-P"));
    auto points = store.points();
    ASSERT_TRUE(points.has_value());
    const auto at_p = store.assemble(points.value(), 0, "a", true);
    EXPECT_TRUE(at_p.view.is_present("a/T"));    // was the file
    EXPECT_FALSE(at_p.view.is_present("a/N"));   // made after P
    EXPECT_FALSE(at_p.view.is_present("a/X"));
}

TEST(VersionStore, AMergeCutShortIsFinishedByTheNextRunAndKeepsTheOlderVersionExact) {
    Folder dir;
    ASSERT_TRUE(make_directories(dir.path + "/mirror").ok());
    const VersionStore store(dir.path + "/mirror");
    ASSERT_TRUE(make_directories(store.root()).ok());
    record(store, "A", 100, true);
    record(store, "C", 300);
    put(store.back_dir("A") + "/f", "f at A");
    // B was being merged into A when the daemon died: g was moved already, h not yet.
    const std::string merging = store.root() + "/.merging-B-into-A";
    put(merging + "/version.json", point_json(VersionPoint{"B", 200, "success", false}));
    put(store.back_dir("A") + "/g", "g at B");
    put(merging + "/back/h", "h at B");
    put(merging + "/back/f", "f at B");   // A says what f was: stays A's
    ASSERT_TRUE(store.append_created(merging + "/created", {"new"}).ok());
    put(dir.path + "/mirror/new", "made after B");
    const auto began = store.begin_run("D", 400, false);
    ASSERT_EQ(began.error, "");
    EXPECT_FALSE(exists(merging));
    EXPECT_EQ(get(store.back_dir("A") + "/h"), "h at B");
    EXPECT_EQ(get(store.back_dir("A") + "/f"), "f at A");
    auto points = store.points();
    ASSERT_TRUE(points.has_value());
    ASSERT_EQ(points.value().size(), 3u);   // A, C and the new run's D
    const auto at_a = store.assemble(points.value(), 0, "", true);
    EXPECT_TRUE(at_a.view.is_present("h"));
    EXPECT_FALSE(at_a.view.is_present("new"));   // made after B, so after A too
}

TEST(VersionStore, AVersionIsStagedAsHardLinksAndRemovingThemLeavesTheBackupAlone) {
    Folder dir;
    const std::string mirror = dir.path + "/mirror";
    const VersionStore store(mirror);
    ASSERT_TRUE(make_directories(store.root()).ok());
    record(store, "P", 100, true);
    record(store, "Q", 200);
    put(mirror + "/keep/same", "unchanged since P");
    put(mirror + "/keep/changed", "today");
    put(store.back_dir("P") + "/keep/changed", "at P");
    put(store.back_dir("P") + "/gone/old", "deleted after P");
    put(mirror + "/fresh", "made after P");
    ASSERT_TRUE(store.append_created(store.created_path("P"), {"fresh"}).ok());
    auto points = store.points();
    ASSERT_TRUE(points.has_value());
    const auto assembled = store.assemble(points.value(), 0, "", true);
    ASSERT_EQ(assembled.error, "");
    auto staged = store.stage(assembled);
    ASSERT_TRUE(staged.has_value()) << staged.error();
    const std::string staging = staged.value();
    EXPECT_EQ(get(staging + "/keep/same"), "unchanged since P");
    EXPECT_EQ(get(staging + "/keep/changed"), "at P");
    EXPECT_EQ(get(staging + "/gone/old"), "deleted after P");
    EXPECT_FALSE(exists(staging + "/fresh"));
    EXPECT_FALSE(exists(staging + "/" + std::string(kVersionsFolder)));
    struct stat st {};
    ASSERT_EQ(::stat((mirror + "/keep/same").c_str(), &st), 0);
    EXPECT_EQ(st.st_nlink, 2u);   // the staging tree links the backup's own file
    const mode_t mode_before = st.st_mode;
    ASSERT_TRUE(VersionStore::remove_tree(staging).ok());
    EXPECT_FALSE(exists(staging));
    ASSERT_EQ(::stat((mirror + "/keep/same").c_str(), &st), 0);
    EXPECT_EQ(st.st_nlink, 1u);
    EXPECT_EQ(st.st_mode, mode_before);   // never chmod'ed through the link
    EXPECT_EQ(get(mirror + "/keep/same"), "unchanged since P");
}

TEST(VersionStore, TheVersionsFolderMustBeARealFolder) {
    Folder dir;
    ASSERT_TRUE(make_directories(dir.path + "/mirror").ok());
    ASSERT_TRUE(make_directories(dir.path + "/elsewhere").ok());
    ASSERT_EQ(::symlink((dir.path + "/elsewhere").c_str(), (dir.path + "/mirror/" + std::string(kVersionsFolder)).c_str()), 0);
    const VersionStore store(dir.path + "/mirror");
    const auto began = store.begin_run("R", 100, false);
    EXPECT_NE(began.error.find("is not a folder"), std::string::npos) << began.error;
    EXPECT_FALSE(exists(dir.path + "/elsewhere/R"));
}
