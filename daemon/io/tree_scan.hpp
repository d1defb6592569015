// Walks the source tree and records per-folder statistics for the planner, when there are
// none from a previous run. The walk runs on the event loop in small steps (a bounded
// batch of directory entries per step), so the loop stays responsive; memory is bounded
// by the number of folders (the statistics) and the depth (open directories), not by the
// number of files.
#pragma once

#include <boost/asio/io_context.hpp>
#include <dirent.h>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/tree_stats.hpp"

namespace dailysync {

struct ScanResult {
    TreeStats tree;
    std::string error;                 // non-empty: the source itself could not be read
    std::uint64_t unreadable_dirs = 0; // folders below it that could not be opened
};

class TreeScan : public std::enable_shared_from_this<TreeScan> {
public:
    using OnDone = std::function<void(ScanResult)>;
    static std::shared_ptr<TreeScan> create(boost::asio::io_context &io, std::string source, OnDone on_done);
    ~TreeScan();
    void start();
    void cancel();

private:
    TreeScan(boost::asio::io_context &io, std::string source, OnDone on_done);
    void step();
    void finish();

    struct Frame {
        DIR *dir;
        std::string path;   // relative to the source
    };
    boost::asio::io_context &io_;
    std::string source_;
    OnDone on_done_;
    std::vector<Frame> stack_;
    ScanResult result_;
    bool cancelled_ = false;
};

}  // namespace dailysync
