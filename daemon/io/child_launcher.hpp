// The port through which a run starts its rsync-like children. LocalLauncher runs the
// program on this machine; a launcher for more movers (rsync started over ssh on another
// host) gives the same RsyncChild handle, so the supervisor does not know the difference.
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>

#include "io/rsync_child.hpp"

namespace dailysync {

class ChildLauncher {
public:
    virtual ~ChildLauncher() = default;
    // Creates and starts the child; RsyncChild's callbacks report on it from the loop.
    virtual std::shared_ptr<RsyncChild> launch(RsyncChild::Options options, RsyncChild::OnOutput on_output,
                                               RsyncChild::OnExit on_exit) = 0;
};

class LocalLauncher final : public ChildLauncher {
public:
    explicit LocalLauncher(boost::asio::io_context &io) : io_(io) {}
    std::shared_ptr<RsyncChild> launch(RsyncChild::Options options, RsyncChild::OnOutput on_output,
                                       RsyncChild::OnExit on_exit) override {
        auto child = RsyncChild::create(io_, std::move(options), std::move(on_output), std::move(on_exit));
        child->start();
        return child;
    }

private:
    boost::asio::io_context &io_;
};

}  // namespace dailysync
