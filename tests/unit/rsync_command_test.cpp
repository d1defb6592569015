#include <algorithm>
#include <gtest/gtest.h>

#include "core/rsync_command.hpp"

using namespace dailysync;

namespace {
Config config() {
    Config c;
    c.source = "/data/prod";
    c.destination = "/data/prod_backup";
    return c;
}
bool has(const std::vector<std::string> &args, const std::string &arg) {
    return std::find(args.begin(), args.end(), arg) != args.end();
}
WorkUnit folder(const std::string &base, bool recursive) {
    WorkUnit u;
    u.base = base;
    u.recursive = recursive;
    return u;
}
}  // namespace

TEST(RsyncCommand, FolderUnitEndsWithSeparatorAndAbsolutePathsFromTheSourcesTop) {
    auto args = rsync_arguments(config(), folder("x/--delete", true), false);
    ASSERT_GE(args.size(), 3u);
    EXPECT_EQ(args[args.size() - 3], "--");
    // The names rsync sees start at the source's top ("x/--delete/..."), as one rsync of
    // the whole tree would see them: excludes and the backup folder mean the same.
    EXPECT_EQ(args[args.size() - 2], "/data/prod/./x/--delete/");
    EXPECT_EQ(args[args.size() - 1], "/data/prod_backup/");
    EXPECT_TRUE(has(args, "--relative"));
    EXPECT_TRUE(has(args, "--no-implied-dirs"));
    EXPECT_EQ(rsync_name_prefix(folder("x/--delete", true)), "x/--delete/");
    EXPECT_TRUE(has(args, "--archive"));
    EXPECT_TRUE(has(args, "--out-format=%i %l %n"));
    EXPECT_FALSE(has(args, "--mkpath"));
    // delete is off by default: --delete only so that rsync lists each destination folder
    // (one listing instead of a lookup per entry), with everything protected
    EXPECT_TRUE(has(args, "--delete"));
    EXPECT_TRUE(has(args, "--filter=protect *"));
    EXPECT_EQ(std::count_if(args.begin(), args.end(), [](const std::string &a) { return a.rfind("--max-delete", 0) == 0; }), 0);
    EXPECT_FALSE(has(args, "--dirs"));
    EXPECT_FALSE(has(args, "--dry-run"));
}

TEST(RsyncCommand, TopLevelUnitIsNotRecursiveAndNeverCreatesTheDestination) {
    auto c = config();
    c.delete_extraneous = true;
    c.exclude = {"*.tmp"};
    c.rsync_extra_args = {"--numeric-ids"};
    auto args = rsync_arguments(c, folder("", false), true);
    EXPECT_TRUE(has(args, "--no-recursive"));
    EXPECT_TRUE(has(args, "--dirs"));
    EXPECT_TRUE(has(args, "--delete"));
    EXPECT_TRUE(has(args, "--dry-run"));
    EXPECT_TRUE(has(args, "--exclude=*.tmp"));
    EXPECT_TRUE(has(args, "--numeric-ids"));
    EXPECT_FALSE(has(args, "--mkpath"));
    EXPECT_EQ(args.back(), "/data/prod_backup/");
    EXPECT_EQ(args[args.size() - 2], "/data/prod/./");
    EXPECT_EQ(rsync_name_prefix(folder("", false)), "");
    auto separator = std::find(args.begin(), args.end(), "--");
    EXPECT_EQ(args.end() - separator, 3);
}

TEST(RsyncCommand, GroupUnitCopiesSiblingsIntoTheirParent) {
    WorkUnit u = folder("alpha/edit", true);
    u.members = {"reel1", "-reel2"};
    auto args = rsync_arguments(config(), u, false);
    auto separator = std::find(args.begin(), args.end(), "--");
    ASSERT_EQ(args.end() - separator, 4);
    EXPECT_EQ(*(separator + 1), "/data/prod/./alpha/edit/reel1");   // no trailing slash: the folder itself
    EXPECT_EQ(*(separator + 2), "/data/prod/./alpha/edit/-reel2");
    EXPECT_EQ(*(separator + 3), "/data/prod_backup/");
    EXPECT_EQ(rsync_name_prefix(u), "alpha/edit/");
}

TEST(RsyncCommand, DeletionGuardPasses) {
    Config c = config();
    c.delete_extraneous = true;
    auto first = rsync_arguments(c, folder("alpha", true), false);
    EXPECT_TRUE(has(first, "--delete"));
    EXPECT_TRUE(has(first, "--max-delete=0")) << "first pass: count, delete nothing";
    EXPECT_FALSE(has(first, "--filter=protect *"));
    WorkUnit second = folder("alpha", true);
    second.deletion_pass = true;
    second.max_delete = 42;
    auto args = rsync_arguments(c, second, false);
    EXPECT_TRUE(has(args, "--delete"));
    EXPECT_TRUE(has(args, "--max-delete=42"));
    EXPECT_FALSE(has(args, "--max-delete=0"));
    c.max_delete = {DeleteLimit::Kind::unlimited, 0};
    auto unguarded = rsync_arguments(c, folder("alpha", true), false);
    EXPECT_TRUE(has(unguarded, "--delete"));
    EXPECT_FALSE(has(unguarded, "--filter=protect *"));
    EXPECT_EQ(std::count_if(unguarded.begin(), unguarded.end(), [](const std::string &a) { return a.rfind("--max-delete", 0) == 0; }), 0);
}

TEST(RsyncCommand, TheProtectRuleStandsBeforeAndAfterEveryConfiguredPattern) {
    // rsync takes the first rule that matches (an earlier include would win) and "!"
    // clears the rules before it: with delete off, "protect *" comes first and last. With
    // delete on, the guard's limit is an option, after every pattern all the same.
    Config c = config();
    c.exclude = {"*.tmp"};
    c.rsync_extra_args = {"--numeric-ids"};
    auto position = [](const std::vector<std::string> &args, const std::string &arg, bool last = false) {
        const auto it = last ? std::find(args.rbegin(), args.rend(), arg).base() - 1 : std::find(args.begin(), args.end(), arg);
        return it - args.begin();
    };
    const auto off = rsync_arguments(c, folder("alpha", true), false);
    EXPECT_EQ(std::count(off.begin(), off.end(), "--filter=protect *"), 2);
    EXPECT_LT(position(off, "--filter=protect *"), position(off, "--exclude=*.tmp"));
    EXPECT_GT(position(off, "--filter=protect *", true), position(off, "--numeric-ids"));
    EXPECT_LT(position(off, "--filter=protect *", true), position(off, "--"));
    c.delete_extraneous = true;
    const auto on = rsync_arguments(c, folder("alpha", true), false);
    EXPECT_EQ(std::count(on.begin(), on.end(), "--filter=protect *"), 0);
    EXPECT_GT(position(on, "--max-delete=0"), position(on, "--numeric-ids"));
}

TEST(RsyncCommand, PreserveOptions) {
    Config c = config();
    auto plain = rsync_arguments(c, folder("alpha", true), false);
    EXPECT_TRUE(has(plain, "--sparse"));
    EXPECT_FALSE(has(plain, "--hard-links"));
    EXPECT_FALSE(has(plain, "--acls"));
    EXPECT_FALSE(has(plain, "--xattrs"));
    c.preserve = Preserve{true, true, true, false};
    auto all = rsync_arguments(c, folder("alpha", true), false);
    EXPECT_TRUE(has(all, "--hard-links") && has(all, "--acls") && has(all, "--xattrs"));
    EXPECT_FALSE(has(all, "--sparse"));
}

TEST(RsyncCommand, VersionsKeepOldFilesUnderTheUnitsWholePath) {
    const std::string back = "/data/prod_backup/.dailysync-versions/V/back";
    auto args = rsync_arguments(config(), folder("alpha/edit", true), false, back);
    EXPECT_TRUE(has(args, "--backup"));
    // rsync's names start at the source's top (--relative), so what it keeps lands under
    // the whole path: back/alpha/edit/...
    EXPECT_TRUE(has(args, "--backup-dir=" + back));
    WorkUnit group;
    group.base = "alpha";
    group.members = {"a", "b"};
    args = rsync_arguments(config(), group, false, back);
    EXPECT_TRUE(has(args, "--backup-dir=" + back));
    args = rsync_arguments(config(), folder("", false), false, back);
    EXPECT_TRUE(has(args, "--backup-dir=" + back));
    // A dry run changes nothing, so keeps nothing; no versions, no --backup.
    EXPECT_FALSE(has(rsync_arguments(config(), folder("alpha", true), true, back), "--backup"));
    EXPECT_FALSE(has(rsync_arguments(config(), folder("alpha", true), false), "--backup"));
}

TEST(RsyncCommand, TheVersionsFolderIsTheFirstRuleOfEveryUnitAtTheTop) {
    Config c = config();
    c.exclude = {"*.tmp"};
    for (bool delete_extraneous : {false, true}) {
        c.delete_extraneous = delete_extraneous;
        const auto args = rsync_arguments(c, folder("", false), false);
        const auto first_rule = std::find_if(args.begin(), args.end(), [](const std::string &a) {
            return a.rfind("--filter", 0) == 0 || a.rfind("--exclude", 0) == 0;
        });
        ASSERT_NE(first_rule, args.end());
        EXPECT_EQ(*first_rule, "--filter=- /.dailysync-versions");
    }
    // Every unit's names start at the source's top, so the anchored rule is given to each
    // and still matches only the top's own folder (alpha/.dailysync-versions is copied).
    EXPECT_TRUE(has(rsync_arguments(c, folder("alpha", true), false), "--filter=- /.dailysync-versions"));
}

TEST(RsyncCommand, AListedNameRsyncWouldReadAsACommentIsWrittenFromDot) {
    // rsync's --files-from skips entries starting with '#' or ';' even NUL-separated.
    EXPECT_EQ(files_from_input({"#a", ";b/c", "d#", "-e", ".", "x\ny"}), std::string("./#a\0./;b/c\0d#\0-e\0.\0x\ny\0", 24));
    EXPECT_EQ(files_from_input({}), "");
}
