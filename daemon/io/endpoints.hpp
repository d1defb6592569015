// What a run reads from and writes to, behind its ports: the source, the destination and
// the destination's versions. Built at the edge (daemon.cpp, once.cpp) by a factory from
// the configuration in force (a reload may name other trees) and passed down: nothing
// below the edge makes a local adapter or opens a tree's path by itself, so a test (or a
// remote endpoint) plugs in here.
#pragma once

#include <functional>
#include <memory>

#include "core/config.hpp"
#include "io/destination.hpp"
#include "io/source.hpp"
#include "io/version_store.hpp"

namespace dailysync {

struct RunEndpoints {
    std::shared_ptr<const Source> source;
    std::shared_ptr<const Destination> destination;
    std::shared_ptr<const VersionStore> versions;   // the destination's (used with "versions", or to note a run without)
};
using EndpointFactory = std::function<RunEndpoints(const Config &config)>;

// Folders of this machine (local disks and NAS shares mounted here alike).
RunEndpoints local_endpoints(const Config &config);

}  // namespace dailysync
