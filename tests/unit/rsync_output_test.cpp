#include <fstream>
#include <gtest/gtest.h>
#include <sstream>

#include "core/rsync_output.hpp"

using namespace dailysync;

namespace {

std::string fixture(const std::string &name) {
    std::ifstream in(std::string(FIXTURES_DIR) + "/" + name, std::ios::binary);
    EXPECT_TRUE(in) << name;
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// Feeds the text in pieces of `chunk` bytes, as pipe reads would deliver it.
RsyncStdoutParser parse_stdout(const std::string &text, std::size_t chunk, bool dry_run = false) {
    RsyncStdoutParser parser(dry_run);
    for (std::size_t i = 0; i < text.size(); i += chunk) parser.feed(std::string_view(text).substr(i, chunk));
    parser.finish();
    return parser;
}

RsyncStderrParser parse_stderr(const std::string &text) {
    RsyncStderrParser parser;
    parser.feed(text);
    parser.finish();
    return parser;
}

}  // namespace

TEST(LineSplitter, SplitsOnCarriageReturnAndNewline) {
    LineSplitter splitter;
    std::vector<std::string> lines;
    auto collect = [&](std::string_view l) { lines.emplace_back(l); };
    splitter.feed("a\rb\n\nc", collect);
    EXPECT_EQ(lines, (std::vector<std::string>{"a", "b"}));
    splitter.feed("d\r\n", collect);
    splitter.feed("tail", collect);
    splitter.finish(collect);
    EXPECT_EQ(lines, (std::vector<std::string>{"a", "b", "cd", "tail"}));
}

TEST(LineSplitter, CutsOverlongLines) {
    LineSplitter splitter(4);
    std::vector<std::string> lines;
    splitter.feed("abcdefghij\n", [&](std::string_view l) { lines.emplace_back(l); });
    EXPECT_EQ(lines, (std::vector<std::string>{"abcd", "efgh", "ij"}));
}

TEST(ProgressLine, ParsesTheFormsRsyncPrints) {
    auto p = parse_progress_line("        3000000  99%  282.98MB/s    0:00:00 (xfr#1, to-chk=23/25)");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->bytes, 3000000u);
    EXPECT_EQ(p->percent, 99);
    EXPECT_EQ(p->transfers, 1u);
    EXPECT_EQ(p->remaining, 23u);
    EXPECT_EQ(p->total, 25u);
    EXPECT_FALSE(p->incremental);

    auto mid = parse_progress_line("          32768   1%    0.00kB/s    0:00:00  ");
    ASSERT_TRUE(mid);
    EXPECT_EQ(mid->bytes, 32768u);
    EXPECT_FALSE(mid->total);

    auto ir = parse_progress_line("  1,234,567  10%  1.00MB/s  0:01:00 (xfr#7, ir-chk=100/500)");
    ASSERT_TRUE(ir);
    EXPECT_EQ(ir->bytes, 1234567u);
    EXPECT_TRUE(ir->incremental);

    std::string_view rest;
    auto glued = parse_progress_line("   2  28%    0.00kB/s    0:00:00 (xfr#1, to-chk=0/6)>f+++++++++ 2 p/f3", &rest);
    ASSERT_TRUE(glued);
    EXPECT_EQ(rest, ">f+++++++++ 2 p/f3");
}

TEST(ProgressLine, RejectsMalformedAndTruncatedLines) {
    for (const char *bad : {"", "   ", "Number of files: 25", "12345", "12345 99", "12345 101% 1kB/s 0:00:00",
                            "100 50% 1kB/s 0:00:00 (xfr#1, to-chk=3", "100 50% 1kB/s 0:00:00 (xfr#x, to-chk=3/4)",
                            "100 50% 1kB/s", ">f+++++++++ 3 a/f1", "99999999999999999999999 5% 1kB/s 0:00:00"}) {
        EXPECT_FALSE(parse_progress_line(bad)) << bad;
    }
}

TEST(ItemLine, ParsesItemsAndDeletions) {
    auto item = parse_item_line(">f+++++++++ 3000000 big");
    ASSERT_TRUE(item);
    EXPECT_TRUE(item->transferred);
    EXPECT_EQ(item->type, 'f');
    EXPECT_EQ(item->size, 3000000u);
    EXPECT_EQ(item->name, "big");
    auto same = parse_item_line(".f          2 a/f1");
    ASSERT_TRUE(same);
    EXPECT_FALSE(same->transferred);
    auto del = parse_item_line("*deleting   0 a/f6");
    ASSERT_TRUE(del);
    EXPECT_TRUE(del->deletion);
    EXPECT_EQ(del->name, "a/f6");
    auto spaced = parse_item_line(">f+++++++++ 1  leading space");
    ASSERT_TRUE(spaced);
    EXPECT_EQ(spaced->name, " leading space");
    for (const char *bad : {"", ">f+++", "xf+++++++++ 1 a", ">q+++++++++ 1 a", ">f+++++++++ x a", ">f+++++++++ 12", ">f+++++++++x1 a"})
        EXPECT_FALSE(parse_item_line(bad)) << bad;
}

TEST(StatsLine, ParsesTheStatsBlock) {
    auto s = parse_stats_line("Number of files: 25 (reg: 21, dir: 3, link: 1)");
    ASSERT_TRUE(s);
    EXPECT_EQ(s->key, "Number of files");
    EXPECT_EQ(s->value, 25u);
    EXPECT_EQ(parse_stats_line("Total file size: 3,000,054 bytes")->value, 3000054u);
    EXPECT_FALSE(parse_stats_line("rsync: something: 12"));
    EXPECT_FALSE(parse_stats_line("Number of files: many"));
}

TEST(RsyncStdout, FullCopyFixture) {
    for (std::size_t chunk : {1u, 7u, 4096u}) {
        auto parser = parse_stdout(fixture("full.stdout"), chunk);
        const auto &c = parser.counters();
        EXPECT_EQ(c.entries_seen, 26u) << chunk;   // ./, big, lnk, a/, 21 files in a/, a/b/
        EXPECT_EQ(c.files_transferred, 22u);
        EXPECT_EQ(c.bytes_transferred, 3000052u);
        EXPECT_EQ(c.bytes_up_to_date, 3u);   // the symlink's target "big"
        EXPECT_EQ(c.stats.at("Number of files"), 26u);
        EXPECT_EQ(c.stats.at("Total file size"), 3000055u);
        EXPECT_EQ(c.rsync_total_entries, 26u);
        EXPECT_EQ(parser.bytes_done(), 3000055u);
        EXPECT_EQ(c.unrecognised_lines, 0u);
    }
}

TEST(RsyncStdout, DailyFixtureCountsUnchangedDeletedAndNew) {
    auto parser = parse_stdout(fixture("daily.stdout"), 13);
    const auto &c = parser.counters();
    EXPECT_EQ(c.deletions, 1u);
    EXPECT_EQ(c.files_transferred, 2u);   // a/f5 changed, a/newdir/n new
    EXPECT_EQ(c.entries_seen, c.stats.at("Number of files"));
    EXPECT_EQ(parser.bytes_done(), c.stats.at("Total file size"));
    EXPECT_EQ(c.unrecognised_lines, 0u);
}

TEST(RsyncStdout, DryRunCountsAnnouncedBytes) {
    auto parser = parse_stdout(fixture("unchanged.stdout"), 64, true);
    const auto &c = parser.counters();
    EXPECT_EQ(c.files_transferred, 0u);
    EXPECT_EQ(parser.bytes_done(), c.stats.at("Total file size"));
    EXPECT_EQ(c.unrecognised_lines, 0u);
}

TEST(RsyncStdout, ProgressGluedToTheNextItemIsNotLost) {
    auto parser = parse_stdout(fixture("partial23.stdout"), 5);
    const auto &c = parser.counters();
    EXPECT_EQ(c.entries_seen, 4u);   // ./ p/ f1 and the glued f3; unreadable f2 has no line
    EXPECT_EQ(c.unrecognised_lines, 0u);
}

TEST(RsyncStdout, TruncatedOutputKeepsWhatWasComplete) {
    std::string text = fixture("full.stdout");
    auto parser = parse_stdout(text.substr(0, text.size() / 2), 100);
    EXPECT_GT(parser.counters().entries_seen, 0u);
    EXPECT_LT(parser.counters().entries_seen, 26u);
    EXPECT_TRUE(parser.counters().stats.empty());
}

TEST(RsyncStdout, GarbageIsCountedNotTrusted) {
    auto parser = parse_stdout("hello world\n\x01\x02\xff\n>f+++ broken\n 12 50%\r", 3);
    EXPECT_EQ(parser.counters().entries_seen, 0u);
    EXPECT_EQ(parser.counters().unrecognised_lines, 4u);
}

TEST(RsyncStderr, PartialTransferNamesTheFile) {
    auto parser = parse_stderr(fixture("partial23.stderr"));
    const auto &s = parser.summary();
    ASSERT_EQ(s.failed_paths.size(), 1u);
    EXPECT_EQ(s.failed_paths[0], "/WORK/p23/s/p/f2");
    EXPECT_NE(s.first_message.find("Permission denied"), std::string::npos);
    EXPECT_NE(s.summary.find("(code 23)"), std::string::npos);
}

TEST(RsyncStderr, VanishedFilesAreWarnings) {
    auto parser = parse_stderr(fixture("vanished24.stderr"));
    const auto &s = parser.summary();
    EXPECT_EQ(s.failed_count, 0u);
    ASSERT_EQ(s.vanished_paths.size(), 1u);
    EXPECT_EQ(s.vanished_paths[0], "/WORK/v/s/p/z_small");
    EXPECT_NE(s.summary.find("(code 24)"), std::string::npos);
}

TEST(RsyncStderr, MkdirFailureIsTheMessage) {
    auto parser = parse_stderr(fixture("mkdir_denied.stderr"));
    EXPECT_EQ(parser.summary().failed_paths, (std::vector<std::string>{"/WORK/m/d/p"}));
    EXPECT_NE(parser.summary().first_message.find("mkdir"), std::string::npos);
}

TEST(RsyncStderr, ListsAreBoundedButCounted) {
    RsyncStderrParser parser;
    for (int i = 0; i < 250; ++i) parser.feed("rsync: [sender] send_files failed to open \"/x/" + std::to_string(i) + "\": Permission denied (13)\n");
    parser.finish();
    EXPECT_EQ(parser.summary().failed_paths.size(), ErrorSummary::kMaxListed);
    EXPECT_EQ(parser.summary().failed_count, 250u);
}

TEST(QuotedPath, HandlesQuotesEscapesAndNoise) {
    EXPECT_EQ(quoted_path(R"(rsync: [sender] change_dir "/a b" failed: x)"), "/a b");
    EXPECT_EQ(quoted_path(R"(rsync: open "/a"b": Permission denied)"), "/a\"b");
    EXPECT_EQ(quoted_path(R"(rsync: open "/new\#012line": x)"), "/new\nline");
    EXPECT_EQ(quoted_path("no quotes here"), "");
    EXPECT_EQ(quoted_path("unterminated \"abc"), "");
}

TEST(ExitCodes, MapToResults) {
    EXPECT_EQ(interpret_exit_code(0).result, UnitResult::success);
    EXPECT_EQ(interpret_exit_code(24).result, UnitResult::warning);
    EXPECT_EQ(interpret_exit_code(23).result, UnitResult::partial);
    EXPECT_FALSE(interpret_exit_code(23).transient);
    EXPECT_EQ(interpret_exit_code(20).result, UnitResult::cancelled);
    for (int code : {1, 2, 3, 4, 5, 6, 10, 11, 12, 13, 14, 21, 22, 25, 30, 35, 255, 99})
        EXPECT_EQ(interpret_exit_code(code).result, UnitResult::failed) << code;
    EXPECT_TRUE(interpret_exit_code(30).transient);
    EXPECT_TRUE(interpret_exit_code(12).transient);
    EXPECT_FALSE(interpret_exit_code(1).transient);
    EXPECT_EQ(interpret_exit_code(25).description, "the --max-delete limit stopped deletions");
    EXPECT_EQ(to_string(UnitResult::partial), "partial");
}

TEST(RsyncStderr, DeletionsHeldBackByMaxDeleteAreCounted) {
    // rsync 3.2 with --delete --max-delete=0 over a destination with 3 extra files and a
    // folder gone from the source, and a folder at the destination where the source now
    // has a file.
    RsyncStderrParser p;
    p.feed("cannot delete non-empty directory: gone\n"
           "could not make way for new regular file: becomes-file\n"
           "Deletions stopped due to --max-delete limit (4 skipped)\n"
           "rsync error: the --max-delete limit stopped deletions (code 25) at main.c(1394) [sender=3.2.7]\n");
    p.finish();
    EXPECT_EQ(p.summary().deletions_skipped, 4u);
    EXPECT_EQ(p.summary().blocked_replacements, 1u);
    EXPECT_EQ(p.summary().failed_count, 0u) << "held back, not failed";
}

TEST(RsyncStderr, TheFirstComplaintIsTheCause) {
    // rsync 3.2 writing to a full file system.
    RsyncStderrParser p;
    p.feed("rsync: [receiver] write failed on \"/dst/big/huge\": No space left on device (28)\n"
           "rsync error: error in file IO (code 11) at receiver.c(657) [receiver=3.2.7]\n"
           "rsync: [sender] write error: Broken pipe (32)\n");
    p.finish();
    EXPECT_NE(p.summary().first_message.find("No space left on device"), std::string::npos) << p.summary().first_message;
    EXPECT_EQ(p.summary().failed_paths, (std::vector<std::string>{"/dst/big/huge"}));
}

TEST(RsyncStdout, RemembersTheMostRecentTransfersForCleanUpAfterAKill) {
    RsyncStdoutParser parser(false);
    std::string text;
    const std::size_t total = RsyncStdoutParser::kRecentTransfers + 10;
    for (std::size_t i = 0; i < total; ++i) text += ">f+++++++++ 5 dir/f" + std::to_string(i) + "\n";
    text += ".f          5 dir/unchanged\n";          // not transferred: no temporary file
    text += ">f+++++++++ 5 new\\#012line\n";           // escaped by rsync, remembered raw
    parser.feed(text);
    const auto recent = parser.recent_transfers();
    ASSERT_EQ(recent.size(), RsyncStdoutParser::kRecentTransfers);
    EXPECT_EQ(recent.front(), "dir/f" + std::to_string(total - RsyncStdoutParser::kRecentTransfers + 1));
    EXPECT_EQ(recent[recent.size() - 2], "dir/f" + std::to_string(total - 1));
    EXPECT_EQ(recent.back(), "new\nline");
}
