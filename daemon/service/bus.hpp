// The D-Bus face of the Manager: object /io/dailysync1, interface io.dailysync1.Manager,
// bus name io.dailysync1. sd-bus driven by the Asio loop: the bus fd is watched for the
// events sd-bus asks for, its absolute CLOCK_MONOTONIC timeout drives a LoopTimer, and
// sd_bus_process runs until it has nothing left. No call ever blocks the loop.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <systemd/sd-bus.h>

#include "core/dbus_names.hpp"
#include "io/loop_timer.hpp"
#include "service/authorization.hpp"
#include "service/manager.hpp"

namespace dailysync {

using dbus::kBusName;
using dbus::kInterface;
using dbus::kObjectPath;

class Bus {
public:
    Bus(boost::asio::io_context &io, Manager &manager, Journal &journal);
    ~Bus();

    // Connects (session bus when `user`, else system bus), publishes the object and asks
    // for the name; on_name_acquired(true) once it is ours, (false) if it cannot be had.
    // Returns "" or why the connection failed.
    // on_lost: the connection broke later (the daemon then exits so systemd restarts it).
    std::string start(bool user, std::function<void(bool)> on_name_acquired, std::function<void()> on_lost);

    // Called by the daemon when the manager reports changes.
    void state_changed();
    void progress_changed();   // throttled to 4 PropertiesChanged per second
    void run_started(const std::string &run_id);
    void run_finished(const std::string &run_id, const std::string &result);
    // Asks the service manager on this bus (org.freedesktop.systemd1) to start `unit`
    // ("replace" mode); `done` gets "" or why not, on the loop.
    void start_unit(const std::string &unit, std::function<void(std::string)> done);

    // sd-bus callbacks (used by the vtable)
    static int property(sd_bus *, const char *, const char *, const char *name, sd_bus_message *reply, void *userdata, sd_bus_error *);
    static int method_start_run(sd_bus_message *m, void *userdata, sd_bus_error *error);
    static int method_start_run_with_options(sd_bus_message *m, void *userdata, sd_bus_error *error);
    static int method_retry_run(sd_bus_message *m, void *userdata, sd_bus_error *error);
    static int method_start_verify(sd_bus_message *m, void *userdata, sd_bus_error *error);
    static int method_list_versions(sd_bus_message *m, void *userdata, sd_bus_error *error);
    void start_run(sd_bus_message *call, const std::string &trigger, RunOptions options);
    Manager::Started started_reply(sd_bus_message *call);
    static int method_cancel_run(sd_bus_message *m, void *userdata, sd_bus_error *error);
    static int method_reload(sd_bus_message *m, void *userdata, sd_bus_error *error);
    static int method_get_run_report(sd_bus_message *m, void *userdata, sd_bus_error *error);
    static int method_list_runs(sd_bus_message *m, void *userdata, sd_bus_error *error);
    static int name_acquired(sd_bus_message *m, void *userdata, sd_bus_error *error);

private:
    int authorized(sd_bus_message *m, std::function<int(sd_bus_message *, sd_bus_error *)> act);
    void pump();   // process pending messages, then wait for what sd-bus asks for
    void emit_progress();
    void flush_soon();

    boost::asio::io_context &io_;
    Manager &manager_;
    Journal &journal_;
    sd_bus *bus_ = nullptr;
    std::unique_ptr<Authorizer> authorizer_;
    sd_bus_slot *object_slot_ = nullptr;
    sd_bus_slot *name_slot_ = nullptr;
    boost::asio::posix::stream_descriptor fd_;
    LoopTimer timeout_;
    LoopTimer throttle_;
    bool reading_ = false, writing_ = false, pump_posted_ = false;
    bool progress_dirty_ = false;
    std::chrono::steady_clock::time_point last_progress_emit_{};
    std::function<void(bool)> on_name_acquired_;
    std::function<void()> on_lost_;
    bool lost_ = false;
};

}  // namespace dailysync
