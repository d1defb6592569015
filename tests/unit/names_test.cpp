#include <gtest/gtest.h>

#include "core/names.hpp"

using namespace dailysync;

TEST(Names, PrintableKeepsUtf8AndEscapesTheRest) {
    EXPECT_EQ(printable_name("alpha"), "alpha");
    EXPECT_EQ(printable_name("caf\xc3\xa9"), "caf\xc3\xa9");
    EXPECT_EQ(printable_name("new\nline"), "new\\#012line");
    EXPECT_EQ(printable_name("cr\r"), "cr\\#015");
    EXPECT_EQ(printable_name("bad\xff"), "bad\\#377");
    EXPECT_EQ(printable_name("\xc3"), "\\#303");                 // truncated sequence
    EXPECT_EQ(printable_name("\xed\xa0\x80"), "\\#355\\#240\\#200");   // surrogate
    EXPECT_EQ(printable_name("\xc0\xaf"), "\\#300\\#257");       // overlong
    EXPECT_EQ(printable_name(std::string("a\0b", 3)), "a\\#000b");
}

TEST(Names, UnescapeReversesRsyncEscapes) {
    EXPECT_EQ(unescape_rsync_name("new\\#012line"), "new\nline");
    EXPECT_EQ(unescape_rsync_name("bad\\#377"), "bad\xff");
    EXPECT_EQ(unescape_rsync_name("not\\#9xx"), "not\\#9xx");
    EXPECT_EQ(unescape_rsync_name("short\\#01"), "short\\#01");
    EXPECT_EQ(unescape_rsync_name("back\\slash"), "back\\slash");
    for (std::string raw : {std::string("x\xff\n\x01y"), std::string("plain"), std::string("\x7f"), std::string("\\#101"),
                            std::string("a\\\\#012"), std::string("end\\")})
        EXPECT_EQ(unescape_rsync_name(printable_name(raw)), raw) << raw;
    // A name holding rsync's escape literally: its backslash is escaped, as rsync does.
    EXPECT_EQ(printable_name("\\#101"), "\\#134#101");
    EXPECT_EQ(printable_name("back\\slash"), "back\\slash");
}

TEST(Names, TheUnitsFolderIsTakenOffAnEscapedName) {
    EXPECT_EQ(strip_raw_prefix("alpha/sub/x", "alpha/"), "sub/x");
    EXPECT_EQ(strip_raw_prefix("new\\#012line/x", "new\nline/"), "x");
    EXPECT_EQ(strip_raw_prefix("\\#134#101/\\#377", "\\#101/"), "\\#377");   // the rest stays escaped
    EXPECT_EQ(strip_raw_prefix("alpha/", "alpha/"), "");
    EXPECT_EQ(strip_raw_prefix("alphabet/x", "alpha/"), std::nullopt);
    EXPECT_EQ(strip_raw_prefix("al", "alpha/"), std::nullopt);
}
