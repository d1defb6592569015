// Source and Destination as folders of this machine's filesystem (local disks and NAS
// shares mounted here alike), from the configuration.
#pragma once

#include <memory>

#include "core/config.hpp"
#include "io/destination.hpp"
#include "io/source.hpp"
#include "io/tree_scan.hpp"

namespace dailysync {

std::shared_ptr<const Source> local_source(const Config &config);
std::shared_ptr<const Destination> local_destination(const Config &config);

// The folder `path` of this machine read through the trees' port (io/tree_reader.hpp);
// `side` names it in the error ("source", "destination").
OpenedTree open_local_tree(const std::string &path, const std::string &side);

// The first run's scan (io/tree_scan.hpp) of the folder `path`, read as above.
ScanResult scan_local_tree(const std::string &path, WorkProgress &progress, unsigned threads);

}  // namespace dailysync
