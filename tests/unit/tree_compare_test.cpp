// The compare's pure parts: rsync's exclude matching, one folder's verdicts, the units
// made of the changes. (Against rsync itself: tests/io/tree_compare_test.cpp.)
#include <gtest/gtest.h>

#include "core/change_units.hpp"
#include "core/rsync_command.hpp"
#include "core/rsync_filter.hpp"
#include "core/tree_compare.hpp"

using namespace dailysync;

namespace {
ExcludeRules rules(std::vector<std::string> patterns) { return std::get<ExcludeRules>(ExcludeRules::compile(patterns)); }

FsEntry file(std::string name, std::uint64_t size = 10, std::int64_t mtime = 100) {
    FsEntry e;
    e.name = std::move(name);
    e.format = 0100000;
    e.permissions = 0644;
    e.size = size;
    e.mtime = mtime;
    return e;
}
FsEntry folder(std::string name) {
    FsEntry e = file(std::move(name), 0);
    e.type = EntryType::dir;
    e.format = 0040000;
    e.permissions = 0755;
    return e;
}
}  // namespace

TEST(Wildmatch, StarsQuestionMarksAndSets) {
    EXPECT_TRUE(wildmatch("*.tmp", "a.tmp"));
    EXPECT_FALSE(wildmatch("*.tmp", "d/a.tmp"));       // '*' stops at '/'
    EXPECT_TRUE(wildmatch("**.tmp", "d/a.tmp"));       // "**" does not
    EXPECT_TRUE(wildmatch("x?z", "xyz"));
    EXPECT_FALSE(wildmatch("x?z", "x/z"));
    EXPECT_TRUE(wildmatch("[ab]c", "bc"));
    EXPECT_FALSE(wildmatch("[!a]q", "aq"));
    EXPECT_TRUE(wildmatch("[^a]q", "bq"));
    EXPECT_TRUE(wildmatch("[a-c]", "b"));
    EXPECT_TRUE(wildmatch("[]]", "]"));                // the first member may be ']'
    EXPECT_FALSE(wildmatch("[ab", "a"));               // never closed: nothing matches
    EXPECT_TRUE(wildmatch("a\\*b", "a*b"));
    EXPECT_FALSE(wildmatch("a\\*b", "axb"));
    EXPECT_FALSE(wildmatch("a", ""));
    EXPECT_TRUE(wildmatch("*", ""));
}

TEST(ExcludeRules, WhereEachFormMatches) {
    EXPECT_TRUE(rules({"*.tmp"}).excluded("a/b/c.tmp", false));            // the name only
    EXPECT_TRUE(rules({"cache/"}).excluded("x/cache", true));
    EXPECT_FALSE(rules({"cache/"}).excluded("x/cache", false));            // folders only
    EXPECT_TRUE(rules({"build/out"}).excluded("p/build/out", false));      // the last elements
    EXPECT_FALSE(rules({"build/out"}).excluded("out", false));
    EXPECT_FALSE(rules({"build/out"}).excluded("xbuild/out", false));
    EXPECT_TRUE(rules({"deep/**/k"}).excluded("a/deep/x/y/k", false));     // every tail
    EXPECT_FALSE(rules({"deep/**/k"}).excluded("deep/k", false));          // "**" between slashes needs a folder
    EXPECT_TRUE(rules({"**/skip*"}).excluded("skipme", false));            // leading "**": '/' in front
    EXPECT_TRUE(rules({"**/skip*"}).excluded("a/skipme", false));
    EXPECT_TRUE(rules({"a\\b"}).excluded("a\\b", false));                  // no wildcard: plain text
    EXPECT_FALSE(rules({"x"}).excluded("", true));                         // never the root
    EXPECT_TRUE(rules({"/a"}).excluded("a", false));                       // anchored: the whole path from the top
    EXPECT_FALSE(rules({"/a"}).excluded("b/a", false));
    EXPECT_TRUE(rules({"/a/*/c"}).excluded("a/b/c", false));
    EXPECT_FALSE(rules({"/a/*/c"}).excluded("x/a/b/c", false));
    EXPECT_TRUE(rules({"/a/**"}).excluded("a/b/c", false));
    EXPECT_FALSE(rules({"/b/"}).excluded("b", false));                     // folders only
    EXPECT_TRUE(rules({"/b/"}).excluded("b", true));
}

TEST(ExcludeRules, RefusesWhatItCannotMatchExactly) {
    for (const auto *pattern : {"/", "//x", "dir/***", "[[:alpha:]]x", ""}) {
        const auto compiled = ExcludeRules::compile({pattern});
        EXPECT_TRUE(std::holds_alternative<std::string>(compiled)) << pattern;
    }
}

TEST(DiffFolder, QuickCheckAndAttributes) {
    const DiffOptions options{true, true};
    const auto none = rules({});
    FsEntry touched = file("touched");
    touched.mtime = 101;
    FsEntry mode = file("mode");
    mode.permissions = 0600;
    FsEntry owner = file("owner");
    owner.uid = 7;
    std::vector<FsEntry> source = {file("same"), file("grown", 11), touched, mode, owner, file("new"), folder("sub"), folder("fresh")};
    std::vector<FsEntry> destination = {file("same"), file("grown"), file("touched"), file("mode"), file("owner"), folder("sub"),
                                        file("gone")};
    const FolderDiff diff = diff_folder("p", source, destination, options, none);
    std::map<std::string, EntryChange> got;
    for (const auto &c : diff.changes) got[c.name] = c.change;
    const std::map<std::string, EntryChange> want = {{"fresh", EntryChange::create},     {"gone", EntryChange::remove},
                                                     {"grown", EntryChange::update},     {"mode", EntryChange::attributes},
                                                     {"new", EntryChange::create},       {"owner", EntryChange::attributes},
                                                     {"touched", EntryChange::update}};
    EXPECT_EQ(got, want);
    EXPECT_EQ(diff.descend, std::vector<std::string>{"sub"});
    EXPECT_EQ(diff.fresh, std::vector<std::string>{"fresh"});
    EXPECT_EQ(diff.compared, source.size());
    // Not root: owners are not compared (rsync -o does nothing then); without "delete"
    // nothing is removed.
    const FolderDiff user = diff_folder("p", source, destination, DiffOptions{false, false}, none);
    for (const auto &c : user.changes) EXPECT_TRUE(c.name != "owner" && c.name != "gone") << c.name;
}

TEST(DiffFolder, TypesLinksAndExcludes) {
    FsEntry link = file("link", 6);
    link.type = EntryType::symlink;
    link.link = "target";
    FsEntry relinked = link;
    relinked.link = "other!";
    FsEntry dir_was_file = folder("x");
    const auto excludes = rules({"*.tmp", "keep/"});
    const FolderDiff diff = diff_folder("", {relinked, dir_was_file, file("a.tmp")},
                                        {link, file("x"), file("b.tmp"), folder("keep")}, DiffOptions{true, true}, excludes);
    ASSERT_EQ(diff.changes.size(), 2u);   // the excluded entries are neither sent nor deleted
    EXPECT_EQ(diff.changes[0].name, "link");
    EXPECT_EQ(diff.changes[0].change, EntryChange::replace);
    EXPECT_EQ(diff.changes[1].name, "x");
    EXPECT_EQ(diff.changes[1].change, EntryChange::replace);
    EXPECT_EQ(diff.fresh, std::vector<std::string>{"x"});   // a folder where a file was: all of it is new
    // A file only in the backup whose name the source has as an excluded folder: only a
    // recursive rsync deletes it.
    const FolderDiff hidden = diff_folder("", {folder("keep")}, {file("keep")}, DiffOptions{true, true}, excludes);
    EXPECT_TRUE(hidden.needs_rsync);
    EXPECT_TRUE(hidden.changes.empty());
}

TEST(CompareUnsupported, NamesWhatTheCompareCannotSee) {
    Config config;
    EXPECT_EQ(compare_unsupported(config), "");
    config.rsync_extra_args = {"--timeout=600", "--numeric-ids"};
    EXPECT_EQ(compare_unsupported(config), "");
    config.rsync_extra_args = {"--size-only"};
    EXPECT_NE(compare_unsupported(config).find("--size-only"), std::string::npos);
    config.rsync_extra_args.clear();
    config.preserve.hard_links = true;
    EXPECT_NE(compare_unsupported(config).find("hard_links"), std::string::npos);
    config.preserve.hard_links = false;
    config.exclude = {"x/***"};
    EXPECT_NE(compare_unsupported(config).find("***"), std::string::npos);
}

TEST(ListedUnits, GroupsStayWholeAndCostsBalance) {
    std::vector<ChangeGroup> groups;
    for (int i = 0; i < 10; ++i) {
        ChangeGroup g;
        g.folder = "f" + std::to_string(i);
        g.paths = {g.folder, g.folder + "/a", g.folder + "/b"};
        g.entries = 300;   // each worth a unit
        groups.push_back(g);
    }
    groups[0].deletions = {"f0/old"};
    groups[1].deletions = {"f1/old_folder"};
    groups[1].deletions_counted = false;   // a folder: its contents go too
    const auto units = plan_listed_units(groups, {"w"}, 1);
    ASSERT_EQ(units.size(), 5u);   // 4 per process at concurrency 1, and the whole tree
    std::set<std::string> seen;
    for (std::size_t i = 0; i + 1 < units.size(); ++i) {
        EXPECT_TRUE(units[i].listed());
        EXPECT_FALSE(units[i].recursive);
        for (const auto &f : units[i].folders) EXPECT_TRUE(seen.insert(f).second) << f << " in two units";
        EXPECT_GE(units[i].estimated_entries, 600u);
        EXPECT_LE(units[i].estimated_entries, 900u);
    }
    EXPECT_EQ(seen.size(), 10u);
    for (std::size_t i = 0; i + 1 < units.size(); ++i) {
        const auto &f = units[i].folders;
        const bool has_f0 = std::count(f.begin(), f.end(), "f0"), has_f1 = std::count(f.begin(), f.end(), "f1");
        EXPECT_EQ(units[i].deletions, (has_f0 ? 1u : 0u) + (has_f1 ? 1u : 0u));
        EXPECT_EQ(units[i].deletions_counted, !has_f1) << units[i].name;
    }
    EXPECT_TRUE(units.back().recursive);
    EXPECT_EQ(units.back().files, std::vector<std::string>{"w"});
    EXPECT_TRUE(plan_listed_units({}, {}, 4).empty());   // nothing changed: no rsync at all
}

TEST(ListedUnits, FewChangesStillUseEveryRsyncAllowedButNeverSplitAGroup) {
    std::vector<ChangeGroup> groups;
    for (int i = 0; i < 6; ++i) {
        ChangeGroup g;
        g.folder = "f" + std::to_string(i);
        g.paths = {g.folder, g.folder + "/a"};
        g.entries = 2;   // far below a share: one rsync could carry them all
        groups.push_back(g);
    }
    EXPECT_EQ(plan_listed_units(groups, {}, 4).size(), 4u) << "each entry costs round trips: they go in parallel";
    EXPECT_EQ(plan_listed_units(groups, {}, 12).size(), 6u) << "one group per unit at most";
    EXPECT_EQ(plan_listed_units(groups, {}, 1).size(), 1u);
}

TEST(ListedUnits, RsyncArgumentsPerDeletionMode) {
    Config config;
    config.source = "/src";
    config.destination = "/dst";
    WorkUnit unit;
    unit.files = {".", "a"};
    unit.recursive = false;   // as plan_listed_units makes them
    auto has = [](const std::vector<std::string> &args, const std::string &arg) { return std::find(args.begin(), args.end(), arg) != args.end(); };
    auto args = rsync_arguments(config, unit, false, "");
    EXPECT_TRUE(has(args, "--files-from=-") && has(args, "--from0") && has(args, "--no-recursive") && has(args, "--ignore-missing-args"));
    EXPECT_FALSE(has(args, "--delete-missing-args"));
    EXPECT_EQ(args.back(), "/dst/");
    EXPECT_EQ(args[args.size() - 2], "/src/");
    config.delete_extraneous = true;   // guarded by default (max_delete 50%): deletions held back first
    args = rsync_arguments(config, unit, false, "");
    EXPECT_TRUE(has(args, "--delete-missing-args") && has(args, "--force") && has(args, "--max-delete=0"));
    unit.max_delete = 3;   // the guard allowed the compare's 3 before copying: the first pass deletes them
    args = rsync_arguments(config, unit, false, "");
    EXPECT_TRUE(has(args, "--max-delete=3"));
    EXPECT_FALSE(has(args, "--max-delete=0"));
    EXPECT_FALSE(has(rsync_arguments(config, unit, true, ""), "--max-delete=3")) << "a dry run lists, deletes nothing";
    unit.deletion_pass = true;
    unit.max_delete = 7;
    args = rsync_arguments(config, unit, false, "");
    EXPECT_TRUE(has(args, "--max-delete=7"));
    EXPECT_FALSE(has(args, "--delete"));   // only what is listed
}
