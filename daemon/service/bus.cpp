#include "service/bus.hpp"

#include <memory>

#include "core/versions.hpp"

#include "core/names.hpp"

#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstring>
#include <limits>
#include <poll.h>
#include <syslog.h>

namespace dailysync {

namespace {

using namespace std::chrono_literals;
constexpr auto kProgressInterval = 250ms;

using namespace dbus;

#define PROPERTY(name, signature, flags) SD_BUS_PROPERTY(name, signature, Bus::property, 0, flags)
constexpr auto kChange = SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE;

const char *const kProgressProperties[] = {"BytesDone", "BytesTotal", "FilesDone", "FilesTotal",
                                           "RateBytesPerSecond", "EtaSeconds", "Units", nullptr};

}  // namespace

static const sd_bus_vtable kVtable[] = {
    SD_BUS_VTABLE_START(0),
    PROPERTY("State", "s", kChange),
    PROPERTY("LastResult", "s", kChange),
    PROPERTY("LastRunId", "s", kChange),
    PROPERTY("NextRun", "t", kChange),
    PROPERTY("CurrentRunId", "s", kChange),
    PROPERTY("Bottleneck", "s", kChange),
    PROPERTY("BottleneckEvidence", "s", kChange),
    PROPERTY("BytesDone", "t", kChange),
    PROPERTY("BytesTotal", "t", kChange),
    PROPERTY("FilesDone", "t", kChange),
    PROPERTY("FilesTotal", "t", kChange),
    PROPERTY("RateBytesPerSecond", "t", kChange),
    PROPERTY("EtaSeconds", "t", kChange),
    PROPERTY("Units", "a(sstttti)", kChange),
    SD_BUS_METHOD_WITH_NAMES("StartRun", "", "", "s", SD_BUS_PARAM(run_id), Bus::method_start_run, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_NAMES("StartRunWithOptions", "a{sv}", SD_BUS_PARAM(options), "s", SD_BUS_PARAM(run_id),
                             Bus::method_start_run_with_options, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_NAMES("StartVerify", "s", SD_BUS_PARAM(path), "s", SD_BUS_PARAM(run_id), Bus::method_start_verify,
                             SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_NAMES("RetryRun", "s", SD_BUS_PARAM(run_id), "s", SD_BUS_PARAM(new_run_id), Bus::method_retry_run,
                             SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("CancelRun", "", "", Bus::method_cancel_run, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("Reload", "", "", Bus::method_reload, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_NAMES("GetRunReport", "s", SD_BUS_PARAM(run_id), "s", SD_BUS_PARAM(json), Bus::method_get_run_report,
                             SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_NAMES("ListRuns", "", "", "a(ssttb)", SD_BUS_PARAM(runs), Bus::method_list_runs, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_NAMES("ListVersions", "s", SD_BUS_PARAM(path), "s", SD_BUS_PARAM(json), Bus::method_list_versions,
                             SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_SIGNAL_WITH_NAMES("RunStarted", "s", SD_BUS_PARAM(run_id), 0),
    SD_BUS_SIGNAL_WITH_NAMES("RunFinished", "ss", SD_BUS_PARAM(run_id) SD_BUS_PARAM(result), 0),
    SD_BUS_VTABLE_END};

Bus::Bus(boost::asio::io_context &io, Manager &manager, Journal &journal)
    : io_(io), manager_(manager), journal_(journal), fd_(io), timeout_(io), throttle_(io) {}

Bus::~Bus() {
    if (fd_.is_open()) fd_.release();   // sd-bus owns the fd
    sd_bus_slot_unref(name_slot_);
    sd_bus_slot_unref(object_slot_);
    if (bus_) sd_bus_flush_close_unref(bus_);
}

std::string Bus::start(bool user, std::function<void(bool)> on_name_acquired, std::function<void()> on_lost) {
    on_name_acquired_ = std::move(on_name_acquired);
    on_lost_ = std::move(on_lost);
    int r = user ? sd_bus_open_user(&bus_) : sd_bus_open_system(&bus_);
    if (r < 0) return std::string("cannot connect to the ") + (user ? "session" : "system") + " bus: " + std::strerror(-r);
    r = sd_bus_add_object_vtable(bus_, &object_slot_, kObjectPath, kInterface, kVtable, this);
    if (r < 0) return std::string("cannot publish ") + kObjectPath + ": " + std::strerror(-r);
    r = sd_bus_request_name_async(bus_, &name_slot_, kBusName, 0, &Bus::name_acquired, this);
    if (r < 0) return std::string("cannot request the name ") + kBusName + ": " + std::strerror(-r);
    authorizer_ = std::make_unique<Authorizer>(bus_, !user);
    fd_.assign(sd_bus_get_fd(bus_));
    pump();
    return {};
}

int Bus::name_acquired(sd_bus_message *m, void *userdata, sd_bus_error *) {
    auto *self = static_cast<Bus *>(userdata);
    // RequestName answers 1 (primary owner), 2 (queued behind the owner), 3 (exists, not
    // queued) or 4 (already the owner). Only 1 and 4 make this process the daemon.
    const sd_bus_error *error = sd_bus_message_get_error(m);
    bool owned = false;
    if (error) {
        self->journal_.log(LOG_ERR, std::string("cannot own the bus name ") + kBusName + ": " + error->message);
    } else {
        uint32_t reply = 0;
        const int r = sd_bus_message_read(m, "u", &reply);
        owned = r >= 0 && (reply == 1 || reply == 4);
        if (!owned)
            self->journal_.log(LOG_ERR, std::string("cannot own the bus name ") + kBusName +
                                            (r < 0 ? ": unreadable reply" : ": another process owns it (is dailysyncd already running?)"));
    }
    if (self->on_name_acquired_) self->on_name_acquired_(owned);
    return 0;
}

void Bus::pump() {
    pump_posted_ = false;
    if (lost_) return;
    for (;;) {
        int r = sd_bus_process(bus_, nullptr);
        if (r < 0) {
            lost_ = true;
            // sd-bus has closed (or is closing) its socket: Asio must forget the number now.
            // Left registered, the next descriptor to get that number (a hook's pipe) would
            // be registered twice, and Asio's re-registration in a forked child fails.
            boost::system::error_code ignored;
            fd_.cancel(ignored);
            if (fd_.is_open()) fd_.release();
            journal_.log(LOG_ERR, std::string("D-Bus connection failed: ") + std::strerror(-r));
            timeout_.stop();
            if (on_lost_) on_lost_();
            return;
        }
        if (r == 0) break;
    }
    const int events = sd_bus_get_events(bus_);
    if ((events & POLLIN) && !reading_) {
        reading_ = true;
        fd_.async_wait(boost::asio::posix::stream_descriptor::wait_read, [this](boost::system::error_code ec) {
            reading_ = false;
            if (!ec) pump();
        });
    }
    if ((events & POLLOUT) && !writing_) {
        writing_ = true;
        fd_.async_wait(boost::asio::posix::stream_descriptor::wait_write, [this](boost::system::error_code ec) {
            writing_ = false;
            if (!ec) pump();
        });
    }
    uint64_t usec = std::numeric_limits<uint64_t>::max();
    sd_bus_get_timeout(bus_, &usec);
    if (usec != std::numeric_limits<uint64_t>::max()) {
        // An absolute CLOCK_MONOTONIC time; steady_clock is CLOCK_MONOTONIC on Linux.
        const auto at = std::chrono::steady_clock::time_point(std::chrono::microseconds(usec));
        timeout_.after(at - std::chrono::steady_clock::now(), [this] { pump(); });
    } else {
        timeout_.stop();
    }
}

void Bus::state_changed() {
    if (!bus_ || lost_) return;
    sd_bus_emit_properties_changed(bus_, kObjectPath, kInterface, "State", "LastResult", "LastRunId", "NextRun", "CurrentRunId",
                                   "Bottleneck", "BottleneckEvidence", nullptr);
    emit_progress();
}

void Bus::progress_changed() {
    if (!bus_ || lost_) return;
    progress_dirty_ = true;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_progress_emit_ >= kProgressInterval) {
        emit_progress();
        return;
    }
    if (throttle_.running()) return;
    throttle_.after(last_progress_emit_ + kProgressInterval - now, [this] {
        if (progress_dirty_) emit_progress();
    });
}

void Bus::emit_progress() {
    progress_dirty_ = false;
    last_progress_emit_ = std::chrono::steady_clock::now();
    sd_bus_emit_properties_changed_strv(bus_, kObjectPath, kInterface, const_cast<char **>(kProgressProperties));
    flush_soon();
}

void Bus::flush_soon() {
    // Messages queued outside a bus callback go out on the next pump.
    if (pump_posted_) return;
    pump_posted_ = true;
    boost::asio::post(io_, [this] { pump(); });
}

void Bus::start_unit(const std::string &unit, std::function<void(std::string)> done) {
    if (!bus_ || lost_) return done("not connected to the bus");
    using Done = std::function<void(std::string)>;
    auto *pending = new Done(std::move(done));
    const int r = sd_bus_call_method_async(
        bus_, nullptr, "org.freedesktop.systemd1", "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager", "StartUnit",
        [](sd_bus_message *reply, void *userdata, sd_bus_error *) {
            std::unique_ptr<Done> callback(static_cast<Done *>(userdata));
            const sd_bus_error *error = sd_bus_message_get_error(reply);
            (*callback)(error ? std::string(error->name ? error->name : "error") + ": " + (error->message ? error->message : "") : "");
            return 0;
        },
        pending, "ss", unit.c_str(), "replace");
    if (r < 0) {
        std::unique_ptr<Done> callback(pending);
        return (*callback)(std::string("cannot call StartUnit: ") + std::strerror(-r));
    }
    flush_soon();
}

void Bus::run_started(const std::string &run_id) {
    if (!bus_ || lost_) return;
    sd_bus_emit_signal(bus_, kObjectPath, kInterface, "RunStarted", "s", run_id.c_str());
    state_changed();
}

void Bus::run_finished(const std::string &run_id, const std::string &result) {
    if (!bus_ || lost_) return;
    state_changed();
    sd_bus_emit_signal(bus_, kObjectPath, kInterface, "RunFinished", "ss", run_id.c_str(), result.c_str());
    flush_soon();
}

int Bus::property(sd_bus *, const char *, const char *, const char *name, sd_bus_message *reply, void *userdata, sd_bus_error *) {
    auto *self = static_cast<Bus *>(userdata);
    const Manager &m = self->manager_;
    const RunModel *run = m.current_run();
    const RunTotals totals = run ? run->totals() : RunTotals{};
    const std::string_view n(name);
    auto u64 = [&](uint64_t value) { return sd_bus_message_append(reply, "t", value); };
    if (n == "State") return sd_bus_message_append(reply, "s", std::string(to_string(m.state())).c_str());
    if (n == "LastResult") return sd_bus_message_append(reply, "s", m.last_result().c_str());
    if (n == "LastRunId") return sd_bus_message_append(reply, "s", m.last_run_id().c_str());
    if (n == "Bottleneck") return sd_bus_message_append(reply, "s", m.last_bottleneck() ? m.last_bottleneck()->resource.c_str() : "");
    if (n == "BottleneckEvidence") {
        const auto &b = m.last_bottleneck();
        const std::string text = b ? b->evidence + (b->advice.empty() ? "" : "; " + b->advice) : "";
        return sd_bus_message_append(reply, "s", text.c_str());
    }
    if (n == "CurrentRunId") return sd_bus_message_append(reply, "s", m.current_run_id().c_str());
    if (n == "NextRun") return u64(m.next_run() ? static_cast<uint64_t>(*m.next_run()) * 1'000'000ULL : 0);
    if (n == "BytesDone") return u64(totals.bytes_done);
    if (n == "BytesTotal") return u64(totals.bytes_total);
    if (n == "FilesDone") return u64(totals.files_done);
    if (n == "FilesTotal") return u64(totals.files_total);
    if (n == "RateBytesPerSecond") return u64(static_cast<uint64_t>(totals.bytes_per_second));
    if (n == "EtaSeconds") {
        if (!run || !totals.eta_seconds) return u64(std::numeric_limits<uint64_t>::max());
        return u64(static_cast<uint64_t>(*totals.eta_seconds));
    }
    if (n == "Units") {
        int r = sd_bus_message_open_container(reply, 'a', "(sstttti)");
        if (r < 0) return r;
        if (run) {
            for (const auto &u : run->units()) {
                r = sd_bus_message_append(reply, "(sstttti)", u.unit.name.c_str(), std::string(to_string(u.state)).c_str(),
                                          static_cast<uint64_t>(u.bytes_done), static_cast<uint64_t>(u.bytes_total),
                                          static_cast<uint64_t>(u.files_done), static_cast<uint64_t>(u.files_total), u.exit_code);
                if (r < 0) return r;
            }
        }
        return sd_bus_message_close_container(reply);
    }
    return -ENOENT;
}

// Runs `act` once the sender may; replies with the denial otherwise. The method call is
// answered later, from the authorization's own callbacks, so it is kept referenced.
int Bus::authorized(sd_bus_message *m, std::function<int(sd_bus_message *, sd_bus_error *)> act) {
    sd_bus_message_ref(m);
    authorizer_->check(m, [this, m, act = std::move(act)](std::optional<Denial> denial) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int r = 0;
        if (denial) {
            journal_.log(LOG_NOTICE, std::string("refused ") + sd_bus_message_get_member(m) + " from " +
                                         (sd_bus_message_get_sender(m) ? sd_bus_message_get_sender(m) : "?") + ": " + denial->message);
            sd_bus_error_set(&error, denial->error_name.c_str(), denial->message.c_str());
        } else {
            r = act(m, &error);
        }
        if (sd_bus_error_is_set(&error)) sd_bus_reply_method_error(m, &error);
        else if (r < 0) sd_bus_reply_method_errno(m, r, nullptr);
        sd_bus_error_free(&error);
        sd_bus_message_unref(m);
        flush_soon();
    });
    return 1;
}

// What answers `call` once a run has started (or could not); keeps it referenced until then.
Manager::Started Bus::started_reply(sd_bus_message *call) {
    sd_bus_message_ref(call);
    return [this, call](Manager::StartError error, const std::string &run_id) {
        switch (error) {
        case Manager::StartError::already_running:
            if (manager_.current_run_id().empty()) sd_bus_reply_method_errorf(call, kErrorAlreadyRunning, "A run is starting");
            else sd_bus_reply_method_errorf(call, kErrorAlreadyRunning, "Run %s is active", manager_.current_run_id().c_str());
            break;
        case Manager::StartError::stopping: sd_bus_reply_method_errorf(call, kErrorStopping, "The service is stopping"); break;
        case Manager::StartError::locked:
            sd_bus_reply_method_errorf(call, kErrorLocked, "%s", printable_name(manager_.lock_refusal()).c_str());
            break;
        case Manager::StartError::refused:
            sd_bus_reply_method_errorf(call, kErrorNothingToRetry, "%s", printable_name(manager_.refusal()).c_str());
            break;
        case Manager::StartError::none: sd_bus_reply_method_return(call, "s", run_id.c_str()); break;
        }
        sd_bus_message_unref(call);
        flush_soon();
    };
}

void Bus::start_run(sd_bus_message *call, const std::string &trigger, RunOptions options) {
    manager_.start_run(trigger, started_reply(call), std::move(options));
}

int Bus::method_start_run(sd_bus_message *m, void *userdata, sd_bus_error *) {
    auto *self = static_cast<Bus *>(userdata);
    return self->authorized(m, [self](sd_bus_message *call, sd_bus_error *) {
        self->start_run(call, "D-Bus StartRun", {});
        return 0;
    });
}

int Bus::method_start_run_with_options(sd_bus_message *m, void *userdata, sd_bus_error *) {
    auto *self = static_cast<Bus *>(userdata);
    return self->authorized(m, [self](sd_bus_message *call, sd_bus_error *error) {
        RunOptions options;
        int r = sd_bus_message_enter_container(call, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(call, 'e', "sv")) > 0) {
            const char *key = nullptr;
            if ((r = sd_bus_message_read(call, "s", &key)) < 0) break;
            if (std::string_view(key) != "allow_mass_change")
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown option \"%s\" (known: allow_mass_change)",
                                         printable_name(key).c_str());
            int value = 0;
            if ((r = sd_bus_message_read(call, "v", "b", &value)) < 0)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "allow_mass_change must be a boolean (b)");
            options.allow_mass_change = value != 0;
            if ((r = sd_bus_message_exit_container(call)) < 0) break;
        }
        if (r < 0 || sd_bus_message_exit_container(call) < 0)
            return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "Options must be a{sv}");
        self->start_run(call, options.allow_mass_change ? "D-Bus StartRunWithOptions (mass change allowed)" : "D-Bus StartRunWithOptions",
                        options);
        return 0;
    });
}

int Bus::method_retry_run(sd_bus_message *m, void *userdata, sd_bus_error *) {
    auto *self = static_cast<Bus *>(userdata);
    return self->authorized(m, [self](sd_bus_message *call, sd_bus_error *) {
        const char *run_id = nullptr;
        if (int r = sd_bus_message_read(call, "s", &run_id); r < 0) return r;
        self->manager_.retry_run(run_id, self->started_reply(call));
        return 0;
    });
}

int Bus::method_start_verify(sd_bus_message *m, void *userdata, sd_bus_error *) {
    auto *self = static_cast<Bus *>(userdata);
    return self->authorized(m, [self](sd_bus_message *call, sd_bus_error *error) {
        const char *given = nullptr;
        if (int r = sd_bus_message_read(call, "s", &given); r < 0) return r;
        // A folder of the source: relative to it, or absolute below it; "" = all of it.
        std::string path = given;
        while (path.size() > 1 && path.back() == '/') path.pop_back();
        const std::string &source = self->manager_.config().source;
        if (path == "." || path == source) path.clear();
        else if (path.rfind(source + "/", 0) == 0) path = path.substr(source.size() + 1);
        if (!is_safe_relative_path(path))
            return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "\"%s\" is not a folder of the source %s (a path relative to it, or below it)",
                                     printable_name(given).c_str(), source.c_str());
        self->manager_.start_verify(path, self->started_reply(call));
        return 0;
    });
}

int Bus::method_cancel_run(sd_bus_message *m, void *userdata, sd_bus_error *) {
    auto *self = static_cast<Bus *>(userdata);
    return self->authorized(m, [self](sd_bus_message *call, sd_bus_error *error) {
        if (!self->manager_.cancel_run()) return sd_bus_error_set(error, kErrorNotRunning, "No run is active");
        return sd_bus_reply_method_return(call, "");
    });
}

int Bus::method_reload(sd_bus_message *m, void *userdata, sd_bus_error *) {
    auto *self = static_cast<Bus *>(userdata);
    // Answered once the new configuration's trees were checked on the workers (the NAS may
    // take its deadline): the call is kept referenced until then.
    return self->authorized(m, [self](sd_bus_message *call, sd_bus_error *) {
        sd_bus_message_ref(call);
        self->manager_.reload([self, call](const std::string &problem) {
            if (!problem.empty()) sd_bus_reply_method_errorf(call, kErrorInvalidConfig, "%s", problem.c_str());
            else {
                self->state_changed();
                sd_bus_reply_method_return(call, "");
            }
            sd_bus_message_unref(call);
            self->flush_soon();
        });
        return 1;
    });
}

// The history is read on the state worker; the call is answered from there (kept
// referenced until then), so a slow state folder never holds the loop.
int Bus::method_get_run_report(sd_bus_message *m, void *userdata, sd_bus_error *error) {
    auto *self = static_cast<Bus *>(userdata);
    const char *id = nullptr;
    int r = sd_bus_message_read(m, "s", &id);
    if (r < 0) return r;
    const std::string run_id = id;
    if (!is_valid_run_id(run_id)) return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Not a run id: %.64s", id);
    sd_bus_message_ref(m);
    self->manager_.read_report(run_id, [self, m, run_id](Loaded<std::string> report) {
        if (report.has_value()) sd_bus_reply_method_return(m, "s", report.value().c_str());
        else if (report.status() == Loaded<std::string>::Status::missing)
            sd_bus_reply_method_errorf(m, kErrorNoSuchRun, "No report for run %s", run_id.c_str());
        else sd_bus_reply_method_errorf(m, kErrorUnreadable, "The report of run %s cannot be read: %s", run_id.c_str(), report.error().c_str());
        sd_bus_message_unref(m);
        self->flush_soon();
    });
    return 1;
}

int Bus::method_list_versions(sd_bus_message *m, void *userdata, sd_bus_error *) {
    auto *self = static_cast<Bus *>(userdata);
    // Guarded like StartRun: a path's versions tell what was in the source.
    return self->authorized(m, [self](sd_bus_message *call, sd_bus_error *error) {
        const char *given = nullptr;
        if (int r = sd_bus_message_read(call, "s", &given); r < 0) return r;
        const std::string text = given;
        const auto path = source_relative(self->manager_.config(), text);
        if (!path) return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Not in the source: %s", printable_name(text).c_str());
        sd_bus_message_ref(call);
        self->manager_.list_versions(*path, !text.empty(), [self, call](Loaded<std::string> listed) {
            if (listed.has_value()) sd_bus_reply_method_return(call, "s", listed.value().c_str());
            else sd_bus_reply_method_errorf(call, kErrorUnreadable, "The versions cannot be read: %s", printable_name(listed.error()).c_str());
            sd_bus_message_unref(call);
            self->flush_soon();
        });
        return 1;
    });
}

int Bus::method_list_runs(sd_bus_message *m, void *userdata, sd_bus_error *) {
    auto *self = static_cast<Bus *>(userdata);
    sd_bus_message_ref(m);
    self->manager_.list_runs([self, m](Loaded<std::vector<RunSummary>> runs) {
        if (!runs.has_value()) {
            sd_bus_reply_method_errorf(m, kErrorUnreadable, "The run history cannot be read: %s", runs.error().c_str());
        } else {
            sd_bus_message *reply = nullptr;
            int r = sd_bus_message_new_method_return(m, &reply);
            if (r >= 0) r = sd_bus_message_open_container(reply, 'a', "(ssttb)");
            for (const auto &run : runs.value()) {
                if (r < 0) break;
                r = sd_bus_message_append(reply, "(ssttb)", run.id.c_str(), run.result.c_str(),
                                          static_cast<uint64_t>(run.started) * 1'000'000ULL,
                                          static_cast<uint64_t>(run.finished) * 1'000'000ULL, static_cast<int>(run.dry_run));
            }
            if (r >= 0) r = sd_bus_message_close_container(reply);
            if (r >= 0) r = sd_bus_send(nullptr, reply, nullptr);
            if (r < 0) sd_bus_reply_method_errno(m, r, nullptr);
            sd_bus_message_unref(reply);
        }
        sd_bus_message_unref(m);
        self->flush_soon();
    });
    return 1;
}

}  // namespace dailysync
