// dailysyncctl's connection to dailysyncd: blocking sd-bus calls (a command-line tool has
// nothing else to do meanwhile) and a signal loop for watch and start --wait. Decodes the
// bus messages into the pure types of status_view.hpp.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <systemd/sd-bus.h>
#include <vector>

#include "ctl/status_view.hpp"

namespace dailysync::ctl {

template <class T>
struct Outcome {
    T value{};
    std::optional<Failure> failure;   // set when the call failed
};

class Client {
public:
    explicit Client(bool user_bus) : user_bus_(user_bus) {}
    ~Client();
    Client(const Client &) = delete;
    Client &operator=(const Client &) = delete;

    std::optional<Failure> connect();

    Outcome<DaemonStatus> status();   // all properties, plus the newest run of ListRuns
    Outcome<std::string> start_run() { return call_for_string("StartRun"); }   // the run id
    // StartRunWithOptions {"allow_mass_change": true}: the run id.
    Outcome<std::string> start_run_allowing_mass_change();
    // The new run's id; run_id "" = the last run.
    Outcome<std::string> retry_run(const std::string &run_id) { return call_for_string("RetryRun", run_id.c_str()); }
    Outcome<std::string> start_verify(const std::string &path) { return call_for_string("StartVerify", path.c_str()); }
    std::optional<Failure> cancel_run() { return call_for_nothing("CancelRun"); }
    std::optional<Failure> reload() { return call_for_nothing("Reload"); }
    Outcome<std::string> run_report(const std::string &run_id) { return call_for_string("GetRunReport", run_id.c_str()); }
    Outcome<std::vector<RunListing>> list_runs();

    // Signals, for watch and start --wait. Subscribe before reading the state, so nothing
    // that happens in between is missed.
    struct Handlers {
        std::function<void(std::string_view, const PropertyValue &)> property_changed;
        std::function<void(const std::string &run_id, const std::string &result)> run_finished;
        std::function<void()> daemon_gone;   // the bus name lost its owner
    };
    std::optional<Failure> subscribe(Handlers handlers);
    // Dispatches what arrives within `wait`; a failure when the connection broke.
    std::optional<Failure> process(std::chrono::milliseconds wait);

private:
    Failure failure_of(const sd_bus_error &error, int r, const char *method) const;
    Outcome<std::string> call_for_string(const char *method, const char *arg = nullptr);   // a method returning "s"
    std::optional<Failure> call_for_nothing(const char *method);                           // a method returning nothing
    int call(const char *method, sd_bus_message **reply, sd_bus_error *error, const char *signature = "", const char *arg = nullptr);
    static int on_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *);
    static int on_run_finished(sd_bus_message *m, void *userdata, sd_bus_error *);
    static int on_name_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *);

    bool user_bus_;
    sd_bus *bus_ = nullptr;
    Handlers handlers_;
};

}  // namespace dailysync::ctl
