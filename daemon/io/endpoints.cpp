#include "io/endpoints.hpp"

#include "io/local_tree.hpp"
#include "io/preflight.hpp"
#include "io/run_lock.hpp"
#include "io/state_store.hpp"
#include "io/version_store.hpp"

namespace dailysync {

RunEndpoints local_endpoints(const Config &config) {
    RunEndpoints e;
    e.source = local_source(config);
    e.destination = local_destination(config);
    e.versions = std::make_shared<const VersionStore>(config.destination);
    e.records = std::make_shared<const StateStore>(config);
    e.places_problem = [config] { return paths_problem(config); };
    e.device = [source = config.source, destination = config.destination](Side side) {
        return block_device_of(side == Side::source ? source : destination);
    };
    e.lock_identity = [destination = config.destination] { return destination_lock_name(destination); };
    return e;
}

}  // namespace dailysync
