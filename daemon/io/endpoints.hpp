// What a run reads from and writes to, behind its ports: the source, the destination and
// the destination's versions. Built at the edge (daemon.cpp, once.cpp) by a factory from
// the configuration in force (a reload may name other trees) and passed down: nothing
// below the edge makes a local adapter or opens a tree's path by itself, so a test (or a
// remote endpoint) plugs in here.
#pragma once

#include <functional>
#include <memory>
#include <optional>

#include "core/config.hpp"
#include "io/destination.hpp"
#include "io/source.hpp"
#include "io/resource_sampler.hpp"
#include "io/run_records.hpp"
#include "io/run_versions.hpp"

namespace dailysync {

struct RunEndpoints {
    std::shared_ptr<const Source> source;
    std::shared_ptr<const Destination> destination;
    std::shared_ptr<const RunVersions> versions;    // the destination's (used with "versions", or to note a run without)
    std::shared_ptr<const RunRecords> records;      // the state folder's reports and statistics
    // Before each run, on a worker: do the trees overlap where they really are (symlinks,
    // bind mounts; io/preflight's paths_problem)? Mounts change between runs.
    std::function<std::optional<Problem>()> places_problem;
    // The block device under a side's tree, for the resource sampler; nullopt when there
    // is none to watch (a network filesystem, a remote or fake endpoint).
    std::function<std::optional<BlockDevice>(Side side)> device;
    // The name of the lock that keeps two runs (of any daemon or --once on this host) out
    // of one backup: the destination's identity (io/run_lock's destination_lock_name);
    // nullopt when it cannot be told. Blocking: on a worker, under kLockNameDeadline.
    std::function<std::optional<std::string>()> lock_identity;
};
using EndpointFactory = std::function<RunEndpoints(const Config &config)>;

// Folders of this machine (local disks and NAS shares mounted here alike).
RunEndpoints local_endpoints(const Config &config);

}  // namespace dailysync
