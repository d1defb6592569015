// The first run's scan with real folders: the same statistics whatever the number of
// threads, exactly the tree that was built, no symlink followed, a cancel honoured.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <algorithm>
#include <unistd.h>

#include "io/local_tree.hpp"

using namespace dailysync;
namespace fs = std::filesystem;

namespace {
struct Tree {
    std::string root;
    std::uint64_t entries = 0, bytes = 0;   // below the root
    Tree() {
        char dir[] = "/tmp/dailysyncd-scan.XXXXXX";
        root = ::mkdtemp(dir);
        std::mt19937 random(11);
        std::vector<std::string> folders{""};
        for (int i = 0; i < 3000; ++i) {
            const std::string parent = folders[random() % folders.size()];
            const std::string path = root + (parent.empty() ? "" : "/" + parent) + "/e" + std::to_string(i);
            ++entries;
            switch (random() % 5) {
            case 0:
                fs::create_directory(path);
                folders.push_back((parent.empty() ? "" : parent + "/") + "e" + std::to_string(i));
                break;
            case 1:
                // A symlink to the root: followed, the walk would never end.
                fs::create_directory_symlink(root, path);
                bytes += fs::read_symlink(path).string().size();
                break;
            default: {
                const std::size_t size = random() % 5000;
                std::ofstream(path) << std::string(size, 'x');
                bytes += size;
            }
            }
        }
    }
    ~Tree() { fs::remove_all(root); }
};

// The statistics as sorted lines (their text follows a hash table's order).
std::vector<std::string> lines_of(const TreeStats &stats) {
    std::vector<std::string> lines;
    std::istringstream in(stats.serialize());
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    std::sort(lines.begin(), lines.end());
    return lines;
}
}  // namespace

TEST(TreeScan, EveryThreadCountGivesTheSameStatisticsOfExactlyTheTree) {
    Tree tree;
    WorkProgress one;
    const ScanResult single = scan_local_tree(tree.root, one, 1);
    ASSERT_EQ(single.error, "");
    EXPECT_EQ(single.tree.total_entries(), tree.entries + 1);
    EXPECT_EQ(single.tree.total_bytes(), tree.bytes);
    EXPECT_EQ(one.steps.load(), tree.entries);
    for (unsigned threads : {2u, 4u, 16u, 64u}) {
        WorkProgress progress;
        const ScanResult parallel = scan_local_tree(tree.root, progress, threads);
        ASSERT_EQ(parallel.error, "") << threads;
        EXPECT_TRUE(lines_of(parallel.tree) == lines_of(single.tree)) << threads << " threads";
        EXPECT_EQ(progress.steps.load(), tree.entries);
    }
}

TEST(TreeScan, AMissingRootIsAnErrorAndACancelStopsTheWalk) {
    WorkProgress progress;
    EXPECT_NE(scan_local_tree("/nonexistent/dailysyncd", progress, 4).error.find("cannot read the source /nonexistent/dailysyncd"), std::string::npos);
    Tree tree;
    WorkProgress cancelled;
    cancelled.cancelled = true;
    const ScanResult stopped = scan_local_tree(tree.root, cancelled, 8);
    EXPECT_EQ(stopped.error, "scan cancelled");
    EXPECT_LT(cancelled.steps.load(), tree.entries);
}
