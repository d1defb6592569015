#include <gtest/gtest.h>

#include "core/mountinfo.hpp"

using namespace dailysync;

namespace {
// /, /data (its own disk), /mnt/bound (a bind mount of /data/prod/beta), /data/prod/nas
// (an NFS mount inside the source's folder), /mnt/bound mounted over again.
const char *kMountinfo =
    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
    "30 22 8:17 / /data rw,relatime shared:2 - ext4 /dev/sdb1 rw\n"
    "31 22 8:17 /prod/beta /mnt/bound rw,relatime shared:2 - ext4 /dev/sdb1 rw\n"
    "32 30 0:55 / /data/prod/nas rw,relatime - nfs4 nas:/export rw\n"
    "33 22 8:17 /other /mnt/over rw - ext4 /dev/sdb1 rw\n"
    "34 22 0:60 / /mnt/over rw - tmpfs tmpfs rw\n";
}  // namespace

TEST(Mountinfo, MountsWithDeviceRootAndPoint) {
    const auto mounts = parse_mounts(kMountinfo);
    ASSERT_EQ(mounts.size(), 6u);
    EXPECT_EQ(mounts[2].device, "8:17");
    EXPECT_EQ(mounts[2].root, "/prod/beta");
    EXPECT_EQ(mounts[2].mount_point, "/mnt/bound");
}

TEST(Mountinfo, LocateSeesThroughBindMountsAndTakesTheTopmostMount) {
    const auto mounts = parse_mounts(kMountinfo);
    EXPECT_EQ(locate(mounts, "/mnt/bound/x").device, "8:17");
    EXPECT_EQ(locate(mounts, "/mnt/bound/x").path, "/prod/beta/x");
    EXPECT_EQ(locate(mounts, "/data/prod").path, "/prod");
    EXPECT_EQ(locate(mounts, "/data").path, "/");
    EXPECT_EQ(locate(mounts, "/data/prod/nas/y").device, "0:55");
    EXPECT_EQ(locate(mounts, "/database").device, "8:1") << "a prefix of a name is no parent";
    EXPECT_EQ(locate(mounts, "/mnt/over/z").device, "0:60") << "the later mount over the same point wins";
}

TEST(Mountinfo, OverlapNamesWhichHoldsWhich) {
    const auto mounts = parse_mounts(kMountinfo);
    const auto source = locate(mounts, "/data/prod"), bound = locate(mounts, "/mnt/bound");
    EXPECT_EQ(overlap_of(bound, "destination", source, "source"), "the destination is inside the source");
    EXPECT_EQ(overlap_of(source, "source", bound, "destination"), "the destination is inside the source");
    EXPECT_EQ(overlap_of(source, "source", source, "destination"), "the source and the destination are the same folder");
    EXPECT_EQ(overlap_of(source, "source", locate(mounts, "/data/prod_backup"), "destination"), "") << "siblings";
    EXPECT_EQ(overlap_of(source, "source", locate(mounts, "/data/prod/nas"), "destination"), "") << "another filesystem";
}
