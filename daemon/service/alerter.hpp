// Sends the alerts the Manager decides on: starts the systemd alert unit through the bus
// (so sites reuse the mail or paging they already hang on units) and POSTs the webhook
// (on a worker: an HTTP server that does not answer must not stop the loop). Every
// outcome goes to the journal; a failed alert is logged, never retried in a loop.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "core/config.hpp"
#include "io/loop_timer.hpp"
#include "io/worker_pool.hpp"
#include "service/journal.hpp"

namespace dailysync {

struct AlertEvent {
    bool failure = false;        // a failed, cancelled or interrupted run, or a stale backup
    std::string unit_instance;   // the alert unit's instance (run id or "stale"); "" = no unit (a success)
    std::string what;            // for the journal: "run 20261130T020000Z failed"
    nlohmann::json payload;      // the webhook's body
};

class Alerter {
public:
    using StartUnit = std::function<void(const std::string &unit, std::function<void(std::string error)> done)>;
    // `pool`: a worker of its own, so a POST never waits behind calls stuck on a hung NAS.
    Alerter(boost::asio::io_context &io, WorkerPool &pool, Journal &journal, StartUnit start_unit)
        : pool_(pool), journal_(journal), start_unit_(std::move(start_unit)), idle_timer_(io) {}
    void send(const Alerts &config, const AlertEvent &event);
    // Calls `done` once no alert is on its way any more, or after `limit` (stopping: the
    // alert about the run the stop cancelled should still go out).
    void when_idle(std::chrono::seconds limit, std::function<void()> done);

private:
    void settled();
    WorkerPool &pool_;
    Journal &journal_;
    StartUnit start_unit_;
    int pending_ = 0;
    std::function<void()> on_idle_;
    LoopTimer idle_timer_;
};

}  // namespace dailysync
