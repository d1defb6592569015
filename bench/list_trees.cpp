// The metadata limit of a daily run, as a benchmark contender: both trees listed and
// lstat()ed with the daemon's own walker (io/tree_scan through io/local_tree's reader,
// openat2 below the root, THREADS folders at once per tree, both trees at the same
// time), nothing compared, nothing copied. A daily run cannot take less than this; bench/run.sh reports it beside the
// others ("metadata-limit").
//   list_trees THREADS DIR...
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "io/local_tree.hpp"

int main(int argc, char **argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: list_trees THREADS DIR...\n");
        return 2;
    }
    const unsigned threads = static_cast<unsigned>(std::atoi(argv[1]));
    const auto start = std::chrono::steady_clock::now();
    std::vector<dailysync::ScanResult> results(static_cast<std::size_t>(argc - 2));
    std::vector<std::thread> walkers;
    for (int i = 2; i < argc; ++i)
        walkers.emplace_back([&results, i, argv, threads] {
            dailysync::WorkProgress progress;
            results[static_cast<std::size_t>(i - 2)] = dailysync::scan_local_tree(argv[i], progress, threads);
        });
    for (auto &walker : walkers) walker.join();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    int status = 0;
    for (std::size_t i = 0; i < results.size(); ++i) {
        if (!results[i].error.empty()) {
            std::fprintf(stderr, "%s\n", results[i].error.c_str());
            status = 1;
        }
        std::printf("%s: %llu entries\n", argv[i + 2], static_cast<unsigned long long>(results[i].tree.total_entries()));
    }
    std::printf("listed in %.2f s with %u threads per tree\n", seconds, threads);
    return status;
}
