// The run scheduler without a process or a file: every path through its decisions, as a
// table of scripted runs. Each row plans some units, scripts how each attempt of each
// unit ends (exit code, signal, silence, a cancel on the way), what the checks on the
// trees answer, and states what the run must end as.
#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <map>

#include "core/run_scheduler.hpp"

using namespace dailysync;

namespace {

const WallClock::time_point kNow{};

WorkUnit folder(const std::string &name) {
    WorkUnit u;
    u.name = name;
    u.base = name;
    u.estimated_cost = 10;
    return u;
}

// How one attempt of a unit ends.
struct Attempt {
    int exit_code = 0;
    int signal = 0;
    bool quiet = false;            // prints nothing until the scheduler kills it (SIGTERM)
    bool cancel_while_running = false;   // the admin cancels the run while it runs
    bool abandoned = false;        // killed, it does not end (stuck in the kernel on the NAS): left behind
    bool starts = true;            // false: the program cannot be started
    std::uint64_t deletions_held_back = 0;
    std::uint64_t blocked_replacements = 0;
    std::uint64_t failed_paths = 0;
    std::uint64_t vanished = 0;
    std::uint64_t files_transferred = 0;
    std::vector<std::string> recent;   // names announced as sent
};

struct Row {
    std::string name;
    std::vector<WorkUnit> units = {folder("a")};
    std::function<void(Config &)> configure = [](Config &) {};
    bool dry_run = false;
    std::map<std::string, std::vector<Attempt>> attempts;   // by unit name; a unit with none succeeds
    std::vector<std::string> gone_at_prepare;               // folders the Prepare check finds missing
    std::string source_problem_at_prepare;
    Inspection found;                                       // what every Inspect finds
    std::optional<Problem> source_problem_before_deleting;
    bool cancel_on_prepare = false;
    bool cancel_during_retry_wait = false;
    // Expected:
    std::map<std::string, UnitState> states;
    std::map<std::string, std::string> messages;            // substring of the unit's message
    RunResult result = RunResult::success;
    std::string run_error;                                  // substring; "" = none expected
    std::vector<int> retry_delays;
    int launches = -1;                                      // -1: not checked
};

struct Outcome {
    std::vector<int> retry_delays;
    int launches = 0;
    std::vector<command::Kill> kills;
    std::vector<command::Inspect> inspections;
    std::vector<command::Launch> launched;
    bool finished = false;
};

std::string describe(UnitState s) { return std::string(to_string(s)); }

// Runs a row to its end, answering every command as the row says.
struct Driver {
    Row row;   // a copy: rows are often temporaries
    Config config;
    TreeStats stats;
    Planner planner{stats, 1, Planner::Work::update};
    RunModel model;
    RunScheduler scheduler;
    Outcome out;
    std::map<std::string, std::size_t> next_attempt;
    std::deque<Command> queue;

    static Config config_of(const Row &row) {
        Config c;
        c.source = "/src";
        c.destination = "/dst";
        c.stall_timeout_seconds = 60;
        row.configure(c);
        return c;
    }
    explicit Driver(const Row &r, int concurrency = 1)
        : row(r), config(config_of(r)), model("run", r.units, r.dry_run, kNow),
          scheduler(model, planner, SchedulerSettings{config, r.dry_run, this_host_only(concurrency)}) {}

    void take(Commands commands) {
        for (auto &c : commands) queue.push_back(std::move(c));
    }
    std::string name_of(std::size_t unit) const { return model.units()[unit].unit.name; }

    void exit_with(std::size_t unit, const Attempt &a) {
        AttemptExit exit;
        exit.started = a.starts;
        if (!a.starts) exit.start_error = "cannot start /usr/bin/rsync: No such file or directory";
        exit.exit_code = a.signal ? -1 : a.exit_code;
        exit.signal = a.signal;
        exit.errors.deletions_skipped = a.deletions_held_back;
        exit.errors.blocked_replacements = a.blocked_replacements;
        exit.errors.failed_count = a.failed_paths;
        exit.errors.vanished_count = a.vanished;
        if (a.failed_paths) exit.errors.first_message = "rsync: [receiver] mkstemp \"x\" failed: Permission denied (13)";
        exit.counters.files_transferred = a.files_transferred;
        exit.counters.stats["Number of files"] = 1;
        exit.recent_transfers = a.recent;
        exit.abandoned = a.abandoned;
        if (a.abandoned) exit.pid = 4242;
        take(scheduler.exited(unit, exit, kNow));
    }

    void launched(const command::Launch &c) {
        ++out.launches;
        out.launched.push_back(c);
        const auto &script = row.attempts.count(name_of(c.unit)) ? row.attempts.at(name_of(c.unit)) : std::vector<Attempt>{};
        const std::size_t n = next_attempt[name_of(c.unit)]++;
        const Attempt a = n < script.size() ? script[n] : Attempt{};
        if (a.quiet) {
            const Commands kill = scheduler.quiet(c.unit);
            ASSERT_EQ(kill.size(), 1u);
            ASSERT_TRUE(std::holds_alternative<command::Kill>(kill[0]));
            out.kills.push_back(std::get<command::Kill>(kill[0]));
            EXPECT_TRUE(scheduler.quiet(c.unit).empty()) << "killed twice for one silence";
            Attempt killed = a;
            killed.signal = a.abandoned ? 9 : 15;
            exit_with(c.unit, killed);
            return;
        }
        if (a.cancel_while_running) {
            const Commands cancel = scheduler.cancel(kNow);
            for (const auto &k : cancel)
                if (std::holds_alternative<command::Kill>(k)) out.kills.push_back(std::get<command::Kill>(k));
            Attempt killed = a;
            killed.signal = a.abandoned ? 9 : 15;
            exit_with(c.unit, killed);
            return;
        }
        if (!a.starts) {
            exit_with(c.unit, a);
            return;
        }
        exit_with(c.unit, a);
    }

    void run() {
        take(scheduler.start(kNow));
        for (int steps = 0; !queue.empty(); ++steps) {
            ASSERT_LT(steps, 1000) << "the run does not end";
            Command c = std::move(queue.front());
            queue.pop_front();
            if (auto *p = std::get_if<command::Prepare>(&c)) {
                if (row.cancel_on_prepare) take(scheduler.cancel(kNow));
                std::vector<std::string> gone;
                for (const auto &f : p->folders)
                    if (std::find(row.gone_at_prepare.begin(), row.gone_at_prepare.end(), f) != row.gone_at_prepare.end()) gone.push_back(f);
                take(scheduler.prepared(p->unit, row.source_problem_at_prepare, gone, kNow));
            } else if (auto *l = std::get_if<command::Launch>(&c)) {
                launched(*l);
            } else if (auto *k = std::get_if<command::Kill>(&c)) {
                out.kills.push_back(*k);
            } else if (auto *i = std::get_if<command::Inspect>(&c)) {
                out.inspections.push_back(*i);
                take(scheduler.inspected(i->unit, row.found, kNow));
            } else if (auto *r = std::get_if<command::RetryAfter>(&c)) {
                out.retry_delays.push_back(r->seconds);
                if (row.cancel_during_retry_wait) take(scheduler.cancel(kNow));
                take(scheduler.retry_due(r->unit, kNow));
            } else if (std::holds_alternative<command::CheckSource>(c)) {
                take(scheduler.source_checked(row.source_problem_before_deleting, kNow));
            } else if (std::holds_alternative<command::Finish>(c)) {
                EXPECT_FALSE(out.finished) << "finished twice";
                out.finished = true;
            }
        }
    }
};

const UnitStatus *unit_named(const RunModel &model, const std::string &name) {
    for (const auto &u : model.units())
        if (u.unit.name == name) return &u;
    return nullptr;
}

std::vector<Row> table() {
    std::vector<Row> rows;
    auto add = [&](Row r) { rows.push_back(std::move(r)); };
    add({.name = "exit 0 is success", .states = {{"a", UnitState::success}}, .launches = 1});
    add({.name = "exit 24 is a warning naming the vanished files",
         .attempts = {{"a", {{.exit_code = 24, .vanished = 3}}}},
         .states = {{"a", UnitState::warning}},
         .messages = {{"a", "3 source files vanished during the copy"}},
         .result = RunResult::warning});
    add({.name = "exit 23 is partial with rsync's own complaint",
         .attempts = {{"a", {{.exit_code = 23, .failed_paths = 1}}}},
         .states = {{"a", UnitState::partial}},
         .messages = {{"a", "rsync exit 23 (partial transfer due to error): rsync: [receiver] mkstemp"}},
         .result = RunResult::failed,
         .launches = 1});
    add({.name = "a transient failure is retried after retry_delay_seconds, then succeeds",
         .attempts = {{"a", {{.exit_code = 12}, {}}}},
         .states = {{"a", UnitState::success}},
         .retry_delays = {30},
         .launches = 2});
    add({.name = "retries double their delay and end after `retries` more attempts",
         .configure = [](Config &c) { c.retry_delay_seconds = 5; },
         .attempts = {{"a", {{.exit_code = 30}, {.exit_code = 30}, {.exit_code = 30}}}},
         .states = {{"a", UnitState::failed}},
         .messages = {{"a", "rsync exit 30 (timeout in data send/receive)"}},
         .result = RunResult::failed,
         .retry_delays = {5, 10},
         .launches = 3});
    add({.name = "retries 0: a transient failure is final",
         .configure = [](Config &c) { c.retries = 0; },
         .attempts = {{"a", {{.exit_code = 12}}}},
         .states = {{"a", UnitState::failed}},
         .result = RunResult::failed,
         .launches = 1});
    add({.name = "a lasting failure (exit 1) is not retried",
         .attempts = {{"a", {{.exit_code = 1}}}},
         .states = {{"a", UnitState::failed}},
         .messages = {{"a", "rsync exit 1 (syntax or usage error)"}},
         .result = RunResult::failed,
         .launches = 1});
    add({.name = "an rsync that cannot start fails its unit for good",
         .attempts = {{"a", {{.starts = false}}}},
         .states = {{"a", UnitState::failed}},
         .messages = {{"a", "cannot start /usr/bin/rsync"}},
         .result = RunResult::failed,
         .launches = 1});
    add({.name = "a silent rsync is killed, its temporaries removed, and retried",
         .configure = [](Config &c) { c.stall_timeout_seconds = 600; },
         .attempts = {{"a", {{.quiet = true, .recent = {"big.mov"}}, {}}}},
         .states = {{"a", UnitState::success}},
         .retry_delays = {30},
         .launches = 2});
    add({.name = "a silent rsync on its last attempt fails with the stall message",
         .configure = [](Config &c) { c.retries = 0; c.stall_timeout_seconds = 600; },
         .attempts = {{"a", {{.quiet = true}}}},
         .states = {{"a", UnitState::failed}},
         .messages = {{"a", "rsync printed nothing for 600 s and was killed"}},
         .result = RunResult::failed});
    add({.name = "killed by someone else's signal: failed, retried",
         .attempts = {{"a", {{.signal = 9}, {}}}},
         .states = {{"a", UnitState::success}},
         .retry_delays = {30},
         .launches = 2});
    add({.name = "killed by a signal, retries spent: the message names the signal",
         .configure = [](Config &c) { c.retries = 0; },
         .attempts = {{"a", {{.signal = 9}}}},
         .states = {{"a", UnitState::failed}},
         .messages = {{"a", "rsync was killed by signal 9 (Killed)"}},
         .result = RunResult::failed});
    add({.name = "cancel while running: the unit is killed with cancel_grace_seconds and cancelled, the rest never start",
         .units = {folder("a"), folder("b")},
         .configure = [](Config &c) { c.cancel_grace_seconds = 7; },
         .attempts = {{"a", {{.cancel_while_running = true}}}},
         .states = {{"a", UnitState::cancelled}, {"b", UnitState::cancelled}},
         .result = RunResult::cancelled,
         .launches = 1});
    add({.name = "cancel during a retry's wait: the retry never comes",
         .attempts = {{"a", {{.exit_code = 12}, {}}}},
         .cancel_during_retry_wait = true,
         .states = {{"a", UnitState::cancelled}},
         .result = RunResult::cancelled,
         .retry_delays = {30},
         .launches = 1});
    add({.name = "cancel while a unit's folders are checked: it never starts",
         .cancel_on_prepare = true,
         .states = {{"a", UnitState::cancelled}},
         .result = RunResult::cancelled,
         .launches = 0});
    add({.name = "a unit's folder gone before it starts fails it without rsync",
         .gone_at_prepare = {"a"},
         .states = {{"a", UnitState::failed}},
         .messages = {{"a", "not started: the folder a vanished from the source during the run"}},
         .result = RunResult::failed,
         .launches = 0});
    add({.name = "a source replaced (unmounted) before a unit starts fails it without rsync",
         .source_problem_at_prepare = "the source /src disappeared or was replaced during the run (unmounted?)",
         .states = {{"a", UnitState::failed}},
         .messages = {{"a", "not started: the source /src disappeared"}},
         .result = RunResult::failed,
         .launches = 0});
    add({.name = "a folder found gone after a failed attempt fails the unit for good, not retried",
         .attempts = {{"a", {{.exit_code = 23, .failed_paths = 1}}}},
         .found = {.gone_folder = "a"},
         .states = {{"a", UnitState::failed}},
         .messages = {{"a", "the folder a vanished from the source during the run"}},
         .result = RunResult::failed,
         .retry_delays = {},
         .launches = 1});
    add({.name = "a folder the NAS could not say anything about is not 'vanished', and a retry may find it",
         .configure = [](Config &c) { c.retries = 0; },
         .attempts = {{"a", {{.exit_code = 23, .failed_paths = 1}}}},
         .found = {.unreadable_folder = "a", .unreadable_error = "Input/output error"},
         .states = {{"a", UnitState::failed}},
         .messages = {{"a", "could not be read at a (Input/output error): is the NAS or its network down?"}},
         .result = RunResult::failed,
         .launches = 1});
    add({.name = "a stalled rsync that does not die after SIGKILL is left behind and retried; nothing asked of the trees",
         .configure = [](Config &c) { c.retries = 1; },
         .attempts = {{"a", {{.quiet = true, .abandoned = true, .recent = {"big.mov"}}}}},
         .states = {{"a", UnitState::success}},
         .retry_delays = {30},
         .launches = 2});
    add({.name = "a cancelled rsync that does not die after SIGKILL is left behind, named, and the run ends",
         .attempts = {{"a", {{.cancel_while_running = true, .abandoned = true, .recent = {"big.mov"}}}}},
         .states = {{"a", UnitState::cancelled}},
         .messages = {{"a", "rsync (process 4242) did not end after SIGKILL: it waits in the kernel for the source /src or the "
                            "destination /dst, which does not answer (is the NAS hung?); it was left behind"}},
         .result = RunResult::cancelled,
         .launches = 1});
    add({.name = "files announced but not arrived do not count as copied",
         .configure = [](Config &c) { c.retries = 0; },
         .attempts = {{"a", {{.exit_code = 12, .files_transferred = 10, .recent = {"x", "y"}}}}},
         .found = {.files_not_arrived = 2, .bytes_not_arrived = 0},
         .states = {{"a", UnitState::failed}},
         .result = RunResult::failed});
    auto guarded = [](Config &c) {
        c.delete_extraneous = true;
        c.max_delete = {DeleteLimit::Kind::count, 100};
    };
    add({.name = "guard: exit 25 in the first pass only holds deletions back; the second pass deletes them",
         .configure = guarded,
         .attempts = {{"a", {{.exit_code = 25, .deletions_held_back = 5}}}},
         .states = {{"a", UnitState::success}, {"a (deletions)", UnitState::success}},
         .launches = 2});
    add({.name = "guard: exit 23 from nothing but blocked type changes also only holds back",
         .configure = guarded,
         .attempts = {{"a", {{.exit_code = 23, .blocked_replacements = 1}}}},
         .states = {{"a", UnitState::success}, {"a (deletions)", UnitState::success}},
         .launches = 2});
    add({.name = "guard: exit 23 with a real failure stays partial and deletes nothing",
         .configure = guarded,
         .attempts = {{"a", {{.exit_code = 23, .blocked_replacements = 1, .failed_paths = 1}}}},
         .states = {{"a", UnitState::partial}},
         .result = RunResult::failed,
         .launches = 1});
    add({.name = "guard: a source that fails its checks before deleting: nothing is deleted",
         .configure = guarded,
         .attempts = {{"a", {{.exit_code = 25, .deletions_held_back = 5}}}},
         .source_problem_before_deleting = Problem{ProblemKind::refused, Side::source, "/src", 0, "the source /src is empty"},
         .states = {{"a", UnitState::success}},
         .result = RunResult::failed,
         .run_error = "the source /src is empty; nothing was deleted",
         .launches = 1});
    add({.name = "guard: more held back than max_delete allows: refused, nothing deleted",
         .configure = guarded,
         .attempts = {{"a", {{.exit_code = 25, .deletions_held_back = 500}}}},
         .states = {{"a", UnitState::success}},
         .result = RunResult::failed,
         .run_error = "refused to delete 500",
         .launches = 1});
    add({.name = "guard: exit 25 in the deletion pass means the source changed meanwhile",
         .configure = guarded,
         .attempts = {{"a", {{.exit_code = 25, .deletions_held_back = 5}}}, {"a (deletions)", {{.exit_code = 25}}}},
         .states = {{"a", UnitState::success}, {"a (deletions)", UnitState::failed}},
         .messages = {{"a (deletions)", "more deletions than this unit's share of max_delete"}},
         .result = RunResult::failed,
         .launches = 2});
    add({.name = "guard off (max_delete unlimited): exit 25 is a failure",
         .configure = [](Config &c) { c.delete_extraneous = true; c.max_delete = {DeleteLimit::Kind::unlimited, 0}; },
         .attempts = {{"a", {{.exit_code = 25}}}},
         .states = {{"a", UnitState::failed}},
         .result = RunResult::failed,
         .launches = 1});
    return rows;
}

}  // namespace

TEST(RunScheduler, EveryPathOfTheTableEndsAsStated) {
    for (const Row &row : table()) {
        SCOPED_TRACE(row.name);
        Driver d(row);
        d.run();
        EXPECT_TRUE(d.out.finished);
        EXPECT_TRUE(d.scheduler.finished());
        for (const auto &[name, state] : row.states) {
            const UnitStatus *u = unit_named(d.model, name);
            ASSERT_NE(u, nullptr) << "no unit " << name;
            EXPECT_EQ(describe(u->state), describe(state)) << name << ": " << u->message;
        }
        for (const auto &[name, text] : row.messages) {
            const UnitStatus *u = unit_named(d.model, name);
            ASSERT_NE(u, nullptr);
            EXPECT_NE(u->message.find(text), std::string::npos) << name << ": " << u->message;
        }
        EXPECT_EQ(to_string(d.model.result()), to_string(row.result)) << d.model.run_error();
        if (row.run_error.empty()) {
            EXPECT_EQ(d.model.run_error(), "");
        } else {
            EXPECT_NE(d.model.run_error().find(row.run_error), std::string::npos) << d.model.run_error();
        }
        EXPECT_EQ(d.out.retry_delays, row.retry_delays);
        if (row.launches >= 0) {
            EXPECT_EQ(d.out.launches, row.launches);
        }
    }
}

TEST(RunScheduler, AStalledRsyncGetsFiveSecondsAndItsTemporariesAreCleanedUp) {
    Row row{.name = "stall", .configure = [](Config &c) { c.retries = 0; }, .attempts = {{"a", {{.quiet = true, .recent = {"big.mov"}}}}}};
    Driver d(row);
    d.run();
    ASSERT_EQ(d.out.kills.size(), 1u);
    EXPECT_EQ(d.out.kills[0].grace_seconds, 5);
    ASSERT_EQ(d.out.inspections.size(), 1u);
    EXPECT_EQ(d.out.inspections[0].remove_temporaries, std::vector<std::string>{"big.mov"});
    EXPECT_EQ(d.out.inspections[0].check_arrived, std::vector<std::string>{"big.mov"});
    EXPECT_EQ(d.out.inspections[0].check_folders, std::vector<std::string>{"a"});
}

TEST(RunScheduler, ARsyncLeftBehindInTheKernelAsksNothingOfTheTrees) {
    // The NAS it waits for would hold a clean-up or a check on a worker thread for ever.
    for (const bool cancel : {false, true}) {
        Row row{.name = "abandoned", .configure = [](Config &c) { c.retries = 0; }};
        row.attempts = {{"a", {{.quiet = !cancel, .cancel_while_running = cancel, .abandoned = true, .recent = {"big.mov"}}}}};
        Driver d(row);
        d.run();
        EXPECT_TRUE(d.out.finished);
        EXPECT_TRUE(d.out.inspections.empty()) << "cancel " << cancel;
        EXPECT_NE(unit_named(d.model, "a")->message.find("it was left behind"), std::string::npos) << unit_named(d.model, "a")->message;
    }
}

TEST(RunScheduler, ACleanExitNeedsNoInspectionAndADryRunNeverTouchesTheDestination) {
    Driver clean(Row{.name = "clean"});
    clean.run();
    EXPECT_TRUE(clean.out.inspections.empty());

    Row dry{.name = "dry", .dry_run = true, .attempts = {{"a", {{.signal = 9, .recent = {"x"}}}}}};
    dry.configure = [](Config &c) { c.retries = 0; };
    Driver d(dry);
    d.run();
    ASSERT_EQ(d.out.inspections.size(), 1u);
    EXPECT_TRUE(d.out.inspections[0].remove_temporaries.empty());
    EXPECT_TRUE(d.out.inspections[0].check_arrived.empty());
    EXPECT_FALSE(d.out.inspections[0].check_folders.empty());   // a folder gone still matters
}

TEST(RunScheduler, NotArrivedFilesAreSubtractedFromWhatTheReportCountsAsCopied) {
    Row row{.name = "arrived", .configure = [](Config &c) { c.retries = 0; },
            .attempts = {{"a", {{.exit_code = 12, .files_transferred = 10, .recent = {"x", "y"}}}}},
            .found = {.files_not_arrived = 2, .bytes_not_arrived = 0}};
    Driver d(row);
    d.run();
    EXPECT_EQ(unit_named(d.model, "a")->files_transferred, 8u);
}

template <class C>
std::vector<C> all_of(const Commands &commands) {
    std::vector<C> out;
    for (const auto &c : commands)
        if (const auto *x = std::get_if<C>(&c)) out.push_back(*x);
    return out;
}

TEST(RunScheduler, EachExecutorRunsAsManyAsItsSlotsAndAFreedSlotIsFilledWhereItFreed) {
    Row row{.name = "movers", .units = {folder("a"), folder("b"), folder("c"), folder("d"), folder("e"), folder("f")}};
    Driver d(row);
    RunScheduler scheduler(d.model, d.planner,
                           SchedulerSettings{d.config, false, {Executor{"this host", 2}, Executor{"mover1", 1}}});
    EXPECT_EQ(scheduler.total_slots(), 3);
    const auto first = all_of<command::Prepare>(scheduler.start(kNow));
    ASSERT_EQ(first.size(), 3u);
    std::map<std::size_t, int> on;
    for (const auto &p : first) ++on[p.executor];
    EXPECT_EQ(on[0], 2);
    EXPECT_EQ(on[1], 1);
    // The unit prepared on the mover launches there; when it ends, the next goes there too.
    const auto *mover = &*std::find_if(first.begin(), first.end(), [](const auto &p) { return p.executor == 1; });
    const auto launch = all_of<command::Launch>(scheduler.prepared(mover->unit, "", {}, kNow));
    ASSERT_EQ(launch.size(), 1u);
    EXPECT_EQ(launch[0].executor, 1u);
    AttemptExit ok;
    ok.exit_code = 0;
    const auto next = all_of<command::Prepare>(scheduler.exited(mover->unit, ok, kNow));
    ASSERT_EQ(next.size(), 1u);
    EXPECT_EQ(next[0].executor, 1u);
    // More slots on this host: filled there, the mover keeps its one.
    const auto grown = all_of<command::Prepare>(scheduler.set_slots(0, 4, kNow));
    ASSERT_EQ(grown.size(), 2u);
    for (const auto &p : grown) EXPECT_EQ(p.executor, 0u);
    EXPECT_TRUE(scheduler.set_slots(0, 4, kNow).empty()) << "all six units are placed: five in flight, one done";
}

TEST(RunScheduler, ConcurrencyBoundsTheUnitsInFlightAndCanGrowMidRun) {
    Row row{.name = "pool", .units = {folder("a"), folder("b"), folder("c"), folder("d")}};
    Driver d(row, 2);
    const Commands first = d.scheduler.start(kNow);
    EXPECT_EQ(first.size(), 2u);   // two Prepare
    for (const auto &c : first) EXPECT_TRUE(std::holds_alternative<command::Prepare>(c));
    const Commands more = d.scheduler.set_slots(0, 3, kNow);
    EXPECT_EQ(more.size(), 1u);
    EXPECT_EQ(d.scheduler.set_slots(0, 3, kNow).size(), 0u);
    // A unit ending frees its place for the next (the biggest first).
    const auto unit = std::get<command::Prepare>(first[0]).unit;
    const Commands launch = d.scheduler.prepared(unit, "", {}, kNow);
    ASSERT_EQ(launch.size(), 1u);
    ASSERT_TRUE(std::holds_alternative<command::Launch>(launch[0]));
    AttemptExit ok;
    ok.exit_code = 0;
    const Commands next = d.scheduler.exited(unit, ok, kNow);
    ASSERT_EQ(next.size(), 1u);
    EXPECT_TRUE(std::holds_alternative<command::Prepare>(next[0]));
}

TEST(RunScheduler, SplitFoldersGoFirstAndTheirSubfoldersBecomeUnits) {
    WorkUnit split = folder("big");
    split.recursive = false;
    split.expand = true;
    split.estimated_cost = 1;
    WorkUnit heavy = folder("heavy");
    heavy.estimated_cost = 100;
    Row row{.name = "expand", .units = {heavy, split}};
    Driver d(row);
    const Commands first = d.scheduler.start(kNow);
    ASSERT_EQ(first.size(), 1u);
    const auto unit = std::get<command::Prepare>(first[0]).unit;
    EXPECT_EQ(d.model.units()[unit].unit.name, "big");   // split first, however cheap
    d.scheduler.prepared(unit, "", {}, kNow);
    ItemLine sub;
    sub.code = "cd+++++++++";
    sub.name = "sub/";   // relative to the unit's folder
    sub.type = 'd';
    (void)d.scheduler.item(unit, sub, kNow);
    AttemptExit ok;
    ok.exit_code = 0;
    const std::size_t before = d.model.units().size();
    d.scheduler.exited(unit, ok, kNow);
    EXPECT_GT(d.model.units().size(), before) << "the subfolder became no unit";
}

TEST(RunScheduler, TemporaryFilesAreRecognisedByRsyncsNamingOnly) {
    const std::vector<std::string> names = {"clip.mov", "a b"};
    EXPECT_TRUE(is_temporary_of(".clip.mov.Ab12Cd", names));
    EXPECT_TRUE(is_temporary_of(".a b.XXXXXX", names));
    EXPECT_FALSE(is_temporary_of("clip.mov", names));
    EXPECT_FALSE(is_temporary_of(".clip.mov.Ab12C", names));     // five characters
    EXPECT_FALSE(is_temporary_of(".clip.mov.Ab12Cde", names));   // seven
    EXPECT_FALSE(is_temporary_of(".other.mov.Ab12Cd", names));
    EXPECT_FALSE(is_temporary_of(".clip.movXAb12Cd", names));
}

namespace {
bool has_finish(const Commands &commands) {
    return std::any_of(commands.begin(), commands.end(), [](const Command &c) { return std::holds_alternative<command::Finish>(c); });
}
}  // namespace

TEST(RunScheduler, AHungSourceStopsTheRunInsteadOfTimingOutUnitByUnit) {
    Row row{.name = "hung", .units = {folder("a"), folder("b"), folder("c")}};
    Driver d(row);
    const Commands first = d.scheduler.start(kNow);
    ASSERT_EQ(first.size(), 1u);
    const auto unit = std::get<command::Prepare>(first[0]).unit;
    const Commands after = d.scheduler.source_unanswered(unit, not_answering(Side::source, "/src", "the source /src", 120), kNow);
    EXPECT_TRUE(has_finish(after)) << "more units were started on a hung source";
    for (const auto &u : d.model.units()) {
        EXPECT_EQ(describe(u.state), "failed") << u.unit.name;
        EXPECT_NE(u.message.find("not started: the source /src did not answer"), std::string::npos) << u.message;
    }
    EXPECT_NE(d.model.run_error().find("did not answer for 120 s (filesystem_timeout_seconds): is the NAS hung or its network down?; the units not yet started were left out"), std::string::npos);
    ASSERT_EQ(d.model.failures().size(), 1u);
    EXPECT_EQ(d.model.failures()[0].kind, ProblemKind::not_answering);
    EXPECT_EQ(d.model.failures()[0].side, Side::source);
    EXPECT_TRUE(d.scheduler.prepared(unit, "", {}, kNow).empty()) << "a late answer must be ignored";
}

TEST(RunScheduler, ACancelSettlesWhatWaitsForTheTreesAtOnce) {
    {   // a unit's folders being checked
        Driver d(Row{.name = "prepare"});
        const auto unit = std::get<command::Prepare>(d.scheduler.start(kNow)[0]).unit;
        EXPECT_TRUE(has_finish(d.scheduler.cancel(kNow)));
        EXPECT_EQ(describe(d.model.units()[unit].state), "cancelled");
        EXPECT_TRUE(d.scheduler.prepared(unit, "", {}, kNow).empty());
    }
    {   // the trees being inspected after a killed rsync
        Driver d(Row{.name = "inspect"});
        const auto unit = std::get<command::Prepare>(d.scheduler.start(kNow)[0]).unit;
        d.scheduler.prepared(unit, "", {}, kNow);
        AttemptExit killed;
        killed.signal = 9;
        killed.recent_transfers = {"x"};
        const Commands inspect = d.scheduler.exited(unit, killed, kNow);
        ASSERT_TRUE(std::holds_alternative<command::Inspect>(inspect.at(0)));
        EXPECT_TRUE(has_finish(d.scheduler.cancel(kNow)));
        EXPECT_EQ(describe(d.model.units()[unit].state), "cancelled");
        EXPECT_TRUE(d.scheduler.inspected(unit, {}, kNow).empty());
    }
    {   // the source being checked before the deletion pass
        Row row{.name = "check", .attempts = {{"a", {{.exit_code = 25, .deletions_held_back = 3}}}}};
        row.configure = [](Config &c) {
            c.delete_extraneous = true;
            c.max_delete = {DeleteLimit::Kind::count, 100};
        };
        Driver d(row);
        const auto unit = std::get<command::Prepare>(d.scheduler.start(kNow)[0]).unit;
        d.scheduler.prepared(unit, "", {}, kNow);
        AttemptExit held;
        held.exit_code = 25;
        held.errors.deletions_skipped = 3;
        const Commands check = d.scheduler.exited(unit, held, kNow);
        ASSERT_EQ(check.size(), 1u);
        ASSERT_TRUE(std::holds_alternative<command::CheckSource>(check[0]));
        const Commands cancelled = d.scheduler.cancel(kNow);
        EXPECT_TRUE(has_finish(cancelled));
        for (const auto &c : cancelled) EXPECT_FALSE(std::holds_alternative<command::Prepare>(c)) << "a deletion pass started";
        EXPECT_TRUE(d.scheduler.source_checked(std::nullopt, kNow).empty());
        EXPECT_EQ(d.model.units().size(), 1u);
        ASSERT_TRUE(d.model.deletion_summary());
        EXPECT_EQ(d.model.deletion_summary()->pending, 3u);
        EXPECT_EQ(d.model.deletion_summary()->not_deleted_because, "the run was cancelled");
    }
}

TEST(RunScheduler, AStoppedGuardedRunStillSaysWhatWasHeldBackAndWhyNothingMoreWentAway) {
    auto guarded = [](Config &c) {
        c.delete_extraneous = true;
        c.max_delete = {DeleteLimit::Kind::count, 100};
    };
    AttemptExit held;
    held.exit_code = 25;
    held.errors.deletions_skipped = 3;
    // The first unit started and its rsync running.
    auto first_running = [](Driver &d) {
        const auto unit = std::get<command::Prepare>(d.scheduler.start(kNow).at(0)).unit;
        d.scheduler.prepared(unit, "", {}, kNow);
        return unit;
    };
    {   // the source fails its check before the second pass
        Row row{.name = "check failed", .configure = guarded, .attempts = {{"a", {{.exit_code = 25, .deletions_held_back = 3}}}},
                .source_problem_before_deleting = Problem{ProblemKind::refused, Side::source, "/src", 0, "the source /src is empty"}};
        Driver d(row);
        d.run();
        ASSERT_TRUE(d.model.deletion_summary());
        EXPECT_EQ(d.model.deletion_summary()->pending, 3u);
        EXPECT_FALSE(d.model.deletion_summary()->refused);
        EXPECT_EQ(d.model.deletion_summary()->not_deleted_because, "the source check failed");
    }
    {   // halted: the source stopped answering before the second unit started
        Driver d(Row{.name = "halted", .units = {folder("a"), folder("b")}, .configure = guarded});
        const auto a = first_running(d);
        const Commands next = d.scheduler.exited(a, held, kNow);
        ASSERT_EQ(next.size(), 1u);
        const auto b = std::get<command::Prepare>(next[0]).unit;
        EXPECT_TRUE(has_finish(d.scheduler.source_unanswered(b, not_answering(Side::source, "/src", "the source /src", 120), kNow)));
        ASSERT_TRUE(d.model.deletion_summary());
        EXPECT_EQ(d.model.deletion_summary()->pending, 3u);
        EXPECT_EQ(d.model.deletion_summary()->not_deleted_because, "the run halted");
    }
    {   // cancelled while the second unit copies
        Driver d(Row{.name = "cancelled", .units = {folder("a"), folder("b")}, .configure = guarded});
        const auto a = first_running(d);
        const auto b = std::get<command::Prepare>(d.scheduler.exited(a, held, kNow).at(0)).unit;
        d.scheduler.prepared(b, "", {}, kNow);
        ASSERT_TRUE(std::holds_alternative<command::Kill>(d.scheduler.cancel(kNow).at(0)));
        AttemptExit killed;
        killed.signal = 15;
        EXPECT_TRUE(has_finish(d.scheduler.exited(b, killed, kNow)));
        ASSERT_TRUE(d.model.deletion_summary());
        EXPECT_EQ(d.model.deletion_summary()->pending, 3u);
        EXPECT_EQ(d.model.deletion_summary()->not_deleted_because, "the run was cancelled");
    }
    {   // cancelled during the second pass: not all of it was deleted
        Driver d(Row{.name = "second pass", .configure = guarded});
        const auto a = first_running(d);
        ASSERT_TRUE(std::holds_alternative<command::CheckSource>(d.scheduler.exited(a, held, kNow).at(0)));
        const auto pass = std::get<command::Prepare>(d.scheduler.source_checked(std::nullopt, kNow).at(0)).unit;
        d.scheduler.prepared(pass, "", {}, kNow);
        ASSERT_TRUE(std::holds_alternative<command::Kill>(d.scheduler.cancel(kNow).at(0)));
        AttemptExit killed;
        killed.signal = 15;
        killed.counters.deletions = 1;
        EXPECT_TRUE(has_finish(d.scheduler.exited(pass, killed, kNow)));
        ASSERT_TRUE(d.model.deletion_summary());
        EXPECT_EQ(d.model.deletion_summary()->not_deleted_because, "the run was cancelled during its deletions");
    }
    {   // a dry run deletes nothing anyway: nothing to explain
        Row row{.name = "dry", .configure = guarded, .dry_run = true};
        Driver d(row);
        const auto a = first_running(d);
        ItemLine gone;
        gone.code = "*deleting";
        gone.name = "x";
        gone.deletion = true;
        (void)d.scheduler.item(a, gone, kNow);
        (void)d.scheduler.cancel(kNow);
        AttemptExit killed;
        killed.signal = 15;
        d.scheduler.exited(a, killed, kNow);
        EXPECT_FALSE(d.model.deletion_summary() && !d.model.deletion_summary()->not_deleted_because.empty());
    }
    {   // nothing held back: nothing to explain
        Driver d(Row{.name = "clean", .configure = guarded});
        d.run();
        EXPECT_FALSE(d.model.deletion_summary() && !d.model.deletion_summary()->not_deleted_because.empty());
    }
}

TEST(RunScheduler, AWarningKeepsWhatRsyncCountedUnlessAFolderTurnsOutGone) {
    Row row{.name = "warning", .attempts = {{"a", {{.exit_code = 24, .vanished = 1, .files_transferred = 10, .recent = {"x"}}}}},
            .found = {.files_not_arrived = 2}};
    Driver d(row);
    d.run();
    EXPECT_EQ(describe(unit_named(d.model, "a")->state), "warning");
    EXPECT_EQ(unit_named(d.model, "a")->files_transferred, 10u);

    row.found.gone_folder = "a";
    Driver gone(row);
    gone.run();
    EXPECT_EQ(describe(unit_named(gone.model, "a")->state), "failed");
    EXPECT_EQ(unit_named(gone.model, "a")->files_transferred, 8u);
}

namespace {
ItemLine itemized(const std::string &code, const std::string &name) {
    ItemLine line;
    line.code = code;
    line.name = name;
    line.type = code[1];
    line.transferred = code[0] == '>' || code[0] == '<';
    return line;
}
// A run keeping versions in V (its later rsyncs in V's scratch folder).
const std::string kBack = "/dst/.dailysync-versions/V/back", kScratch = "/dst/.dailysync-versions/.scratch-V";
Config versioned_config() {
    Config c;
    c.source = "/src";
    c.destination = "/dst";
    return c;
}

// One retry, a second after the first attempt.
Config retrying_config() {
    Config c = versioned_config();
    c.retries = 1;
    c.retry_delay_seconds = 1;
    return c;
}
}  // namespace

TEST(RunScheduler, PastMaxChangeTheRunStopsAndNothingIsRetriedExpandedOrDeleted) {
    TreeStats stats;
    Planner planner{stats, 2, Planner::Work::update};
    Config c = versioned_config();
    c.retries = 2;
    c.delete_extraneous = true;
    c.max_delete = {DeleteLimit::Kind::count, 100};
    c.max_change = {DeleteLimit::Kind::count, 2};
    RunModel model("run", {folder("a"), folder("b"), folder("c")}, false, kNow);
    RunScheduler scheduler(model, planner, SchedulerSettings{c, false, this_host_only(2), kBack, kScratch, true, 2});
    const auto prepares = all_of<command::Prepare>(scheduler.start(kNow));
    ASSERT_EQ(prepares.size(), 2u);
    EXPECT_TRUE(prepares[0].backup_path.empty());   // nothing replaced on its path yet: nothing to check
    const auto launch0 = all_of<command::Launch>(scheduler.prepared(prepares[0].unit, "", {}, kNow));
    ASSERT_EQ(launch0.size(), 1u);
    EXPECT_NE(std::find(launch0[0].arguments.begin(), launch0[0].arguments.end(), "--backup"), launch0[0].arguments.end());
    // The second unit's backup path crosses an entry this run replaced: it keeps nothing.
    const auto launch1 = all_of<command::Launch>(scheduler.prepared(prepares[1].unit, "", {}, kNow, true));
    ASSERT_EQ(launch1.size(), 1u);
    EXPECT_EQ(std::find(launch1[0].arguments.begin(), launch1[0].arguments.end(), "--backup"), launch1[0].arguments.end());

    const std::size_t a = prepares[0].unit, b = prepares[1].unit;
    // New files, attribute changes and folders are no content change; creations are noted.
    EXPECT_TRUE(scheduler.item(a, itemized(">f+++++++++", "new"), kNow).empty());
    EXPECT_TRUE(scheduler.item(a, itemized("cd+++++++++", "sub/"), kNow).empty());
    EXPECT_TRUE(scheduler.item(a, itemized(".f...p.....", "mode-only"), kNow).empty());
    EXPECT_EQ(scheduler.take_creations(), (std::vector<std::string>{model.units()[a].unit.base + "/new", model.units()[a].unit.base + "/sub"}));
    EXPECT_TRUE(scheduler.item(a, itemized(">f.st......", "one"), kNow).empty());
    EXPECT_TRUE(scheduler.item(b, itemized(">f..t......", "two"), kNow).empty());
    const auto kills = all_of<command::Kill>(scheduler.item(b, itemized(">fcs.......", "three"), kNow));
    ASSERT_EQ(kills.size(), 2u);   // both running rsyncs
    EXPECT_NE(model.run_error().find("mass change: more than 2 files"), std::string::npos) << model.run_error();
    EXPECT_NE(model.run_error().find("--allow-mass-change"), std::string::npos);
    for (const auto &u : model.units()) {
        if (u.unit.base != model.units()[a].unit.base && u.unit.base != model.units()[b].unit.base) {
            EXPECT_EQ(u.state, UnitState::failed);   // never started
        }
    }

    // Killed: no retry, no deletion pass, the run finishes failed.
    Commands rest;
    for (std::size_t unit : {a, b}) {
        AttemptExit killed;
        killed.signal = 15;
        for (auto &command : scheduler.exited(unit, killed, kNow)) rest.push_back(command);
    }
    for (std::size_t i = 0; i < rest.size(); ++i)
        if (const auto *inspect = std::get_if<command::Inspect>(&rest[i]))
            for (auto &command : scheduler.inspected(inspect->unit, {}, kNow)) rest.push_back(command);
    EXPECT_TRUE(all_of<command::RetryAfter>(rest).empty());
    EXPECT_TRUE(all_of<command::CheckSource>(rest).empty());
    EXPECT_TRUE(all_of<command::Launch>(rest).empty());
    EXPECT_EQ(all_of<command::Finish>(rest).size(), 1u);
    EXPECT_EQ(model.result(), RunResult::failed);
}

TEST(RunScheduler, ContentChangesAreReplacedFilesOnly) {
    EXPECT_TRUE(is_content_change(itemized(">f.st......", "x")));
    EXPECT_TRUE(is_content_change(itemized(">f..t......", "x")));   // rsync sends it again
    EXPECT_FALSE(is_content_change(itemized(">f+++++++++", "x")));
    EXPECT_FALSE(is_content_change(itemized(".f...p.....", "x")));
    EXPECT_FALSE(is_content_change(itemized("cL.st......", "x")));
    EXPECT_FALSE(is_content_change(itemized(".d..t......", "x")));
    Config c;
    EXPECT_FALSE(change_limit(c, 1000));
    c.max_change = {DeleteLimit::Kind::percent, 10};
    EXPECT_EQ(change_limit(c, 1000), 100u);
    EXPECT_FALSE(change_limit(c, 0));   // no complete run yet
    c.max_change = {DeleteLimit::Kind::count, 5};
    EXPECT_EQ(change_limit(c, 0), 5u);
}

TEST(RunScheduler, AUnitBelowWhatThisRunReplacedHasItsBackupPathChecked) {
    TreeStats stats;
    Planner planner{stats, 1, Planner::Work::update};
    const Config c = versioned_config();
    WorkUnit top = folder("");
    top.name = ".";
    top.recursive = false;
    WorkUnit b = folder("b");
    RunModel model("run", {top, b}, false, kNow);
    RunScheduler scheduler(model, planner, SchedulerSettings{c, false, this_host_only(1), kBack, kScratch, true, std::nullopt});
    const auto first = all_of<command::Prepare>(scheduler.start(kNow));
    ASSERT_EQ(first.size(), 1u);
    ASSERT_EQ(model.units()[first[0].unit].unit.base, "");
    (void)scheduler.prepared(first[0].unit, "", {}, kNow);
    // The top's rsync replaces the file b by a folder: with --backup it renames the file
    // into the version and says only that it made the folder.
    (void)scheduler.item(first[0].unit, itemized("cd+++++++++", "b/"), kNow);
    EXPECT_EQ(scheduler.take_creations(), (std::vector<std::string>{"b"}));
    AttemptExit ok;
    ok.exit_code = 0;
    const auto next = all_of<command::Prepare>(scheduler.exited(first[0].unit, ok, kNow));
    ASSERT_EQ(next.size(), 1u);
    EXPECT_EQ(next[0].backup_path, (std::vector<std::string>{".dailysync-versions/V/back/b"}));
}

TEST(RunScheduler, AUnitsLaterRsyncsKeepIntoScratchFoldersNotIntoTheVersion) {
    TreeStats stats;
    Planner planner{stats, 1, Planner::Work::update};
    Config c = retrying_config();
    RunModel model("run", {folder("a")}, false, kNow);
    RunScheduler scheduler(model, planner,
                           SchedulerSettings{c, false, this_host_only(1), kBack, kScratch, true, std::nullopt});
    const auto prepare = all_of<command::Prepare>(scheduler.start(kNow));
    ASSERT_EQ(prepare.size(), 1u);
    const auto first = all_of<command::Launch>(scheduler.prepared(prepare[0].unit, "", {}, kNow));
    ASSERT_EQ(first.size(), 1u);
    EXPECT_TRUE(first[0].scratch_backup.empty());
    EXPECT_NE(std::find(first[0].arguments.begin(), first[0].arguments.end(), "--backup-dir=/dst/.dailysync-versions/V/back"),
              first[0].arguments.end());
    // It deletes an empty folder: the version must show it (rsync keeps files only).
    ItemLine gone = itemized("*deleting  ", "old/");
    gone.deletion = true;
    (void)scheduler.item(prepare[0].unit, gone, kNow);
    EXPECT_EQ(scheduler.take_deleted_folders(), (std::vector<std::string>{"/dst/.dailysync-versions/V/back/a/old"}));
    // Killed: the retry keeps into a scratch folder of its own.
    AttemptExit killed;
    killed.signal = 9;
    Commands after = scheduler.exited(prepare[0].unit, killed, kNow);
    for (std::size_t i = 0; i < after.size(); ++i)
        if (const auto *inspect = std::get_if<command::Inspect>(&after[i]))
            for (auto &command : scheduler.inspected(inspect->unit, {}, kNow)) after.push_back(command);
    ASSERT_EQ(all_of<command::RetryAfter>(after).size(), 1u);
    const auto again = all_of<command::Prepare>(scheduler.retry_due(prepare[0].unit, kNow));
    ASSERT_EQ(again.size(), 1u);
    const auto second = all_of<command::Launch>(scheduler.prepared(again[0].unit, "", {}, kNow));
    ASSERT_EQ(second.size(), 1u);
    EXPECT_EQ(second[0].scratch_backup, "/dst/.dailysync-versions/.scratch-V/1");
    EXPECT_NE(std::find(second[0].arguments.begin(), second[0].arguments.end(), "--backup-dir=/dst/.dailysync-versions/.scratch-V/1"),
              second[0].arguments.end());
}

TEST(RunScheduler, PackedSiblingsOfOneFolderEachKeepIntoTheVersionDirectly) {
    TreeStats stats;
    Planner planner{stats, 2, Planner::Work::update};
    WorkUnit first = folder("b"), second = folder("b");
    first.name = "b/m1 and 1 more";
    first.members = {"m1", "m2"};
    second.name = "b/m3 and 1 more";
    second.members = {"m3", "m4"};
    RunModel model("run", {first, second}, false, kNow);
    RunScheduler scheduler(model, planner, SchedulerSettings{versioned_config(), false, this_host_only(2), kBack, kScratch, true, std::nullopt});
    const auto prepares = all_of<command::Prepare>(scheduler.start(kNow));
    ASSERT_EQ(prepares.size(), 2u);
    for (const auto &prepare : prepares) {
        const auto launch = all_of<command::Launch>(scheduler.prepared(prepare.unit, "", {}, kNow));
        ASSERT_EQ(launch.size(), 1u);
        EXPECT_TRUE(launch[0].scratch_backup.empty()) << model.units()[prepare.unit].unit.name;   // different entries: no scratch
    }
}

TEST(RunScheduler, TheRunsBandwidthIsSharedOutAsRsyncsStartAndNeverExceeded) {
    TreeStats stats;
    Planner planner{stats, 4, Planner::Work::update};
    Config c;
    c.source = "/s";
    c.destination = "/d";
    std::optional<std::uint64_t> budget = 4 * 1024 * 1024;
    auto share_of = [](const command::Launch &launch) {
        for (const auto &arg : launch.arguments)
            if (arg.rfind("--bwlimit=", 0) == 0) return std::stoull(arg.substr(10));
        return 0ull;
    };
    RunModel model("run", {folder("a"), folder("b"), folder("c"), folder("d"), folder("e")}, false, kNow);
    SchedulerSettings settings{c, false, this_host_only(4), "", "", false, std::nullopt};
    settings.bandwidth = [&budget] { return budget; };
    RunScheduler scheduler(model, planner, settings);
    const auto prepares = all_of<command::Prepare>(scheduler.start(kNow));
    ASSERT_EQ(prepares.size(), 4u);
    std::vector<std::size_t> launched;
    for (const auto &p : prepares) {
        const auto launches = all_of<command::Launch>(scheduler.prepared(p.unit, "", {}, kNow));
        ASSERT_EQ(launches.size(), 1u);
        EXPECT_EQ(share_of(launches[0]), 1024u) << "a quarter of 4 MiB/s, in rsync's KiB/s";
        const auto &args = launches[0].arguments;
        EXPECT_LT(std::find(args.begin(), args.end(), "--bwlimit=1024") - args.begin(), std::find(args.begin(), args.end(), "--") - args.begin())
            << "an option, before the paths";
        launched.push_back(p.unit);
    }
    // One ends: the fifth gets what it leaves, not more.
    AttemptExit ok;
    ok.exit_code = 0;
    const auto next = all_of<command::Prepare>(scheduler.exited(launched[0], ok, kNow));
    ASSERT_EQ(next.size(), 1u);
    budget = 2 * 1024 * 1024;   // the timetable says less now: the running ones already hold 3 MiB/s
    const auto fifth = all_of<command::Launch>(scheduler.prepared(next[0].unit, "", {}, kNow));
    ASSERT_EQ(fifth.size(), 1u);
    EXPECT_EQ(share_of(fifth[0]), kMinShare / 1024) << "nothing left: the least rsync can work with";

    // One unit alone gets the whole budget; unlimited adds no option.
    RunModel single("run2", {folder("a")}, false, kNow);
    budget = 4 * 1024 * 1024;
    RunScheduler alone(single, planner, settings);
    const auto p = all_of<command::Prepare>(alone.start(kNow));
    ASSERT_EQ(p.size(), 1u);
    EXPECT_EQ(share_of(all_of<command::Launch>(alone.prepared(p[0].unit, "", {}, kNow)).at(0)), 4096u);
    // The timetable's limit begins while rsyncs started unlimited still run: they count as
    // using all of it, so the next gets the least share, not the whole limit again.
    RunModel night("run4", {folder("a"), folder("b"), folder("c")}, false, kNow);
    budget = std::nullopt;
    SchedulerSettings two = settings;
    two.executors = this_host_only(2);
    RunScheduler changing(night, planner, two);
    std::vector<std::size_t> night_units;
    for (const auto &prepare : all_of<command::Prepare>(changing.start(kNow))) {
        EXPECT_EQ(share_of(all_of<command::Launch>(changing.prepared(prepare.unit, "", {}, kNow)).at(0)), 0u);
        night_units.push_back(prepare.unit);
    }
    budget = 4 * 1024 * 1024;
    const auto morning = all_of<command::Prepare>(changing.exited(night_units.at(0), ok, kNow));
    ASSERT_EQ(morning.size(), 1u);
    EXPECT_EQ(share_of(all_of<command::Launch>(changing.prepared(morning[0].unit, "", {}, kNow)).at(0)), kMinShare / 1024);

    RunModel free_run("run3", {folder("a")}, false, kNow);
    budget = std::nullopt;
    RunScheduler unlimited(free_run, planner, settings);
    const auto q = all_of<command::Prepare>(unlimited.start(kNow));
    EXPECT_EQ(share_of(all_of<command::Launch>(unlimited.prepared(q[0].unit, "", {}, kNow)).at(0)), 0u);
}

TEST(RunScheduler, AListedUnitHasItsFoldersCheckedAfterEveryAttempt) {
    // Its rsync passes over entries gone since the compare without a word: a clean exit
    // is not enough to know its folders were all there.
    WorkUnit listed;
    listed.name = "changes 1/1";
    listed.files = {"a", "a/x", "b/y"};
    listed.folders = {"a", "b"};
    listed.recursive = false;
    Row row{.name = "listed", .units = {listed}};
    Driver d(row);
    d.run();
    ASSERT_EQ(d.out.inspections.size(), 1u);
    EXPECT_EQ(d.out.inspections[0].check_folders, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(describe(unit_named(d.model, "changes 1/1")->state), "success");
    ASSERT_EQ(d.out.launched.size(), 1u);
    EXPECT_EQ(d.out.launched[0].input, std::string("a\0a/x\0b/y\0", 10));   // the list on stdin

    row.found.gone_folder = "b";
    Driver gone(row);
    gone.run();
    EXPECT_EQ(describe(unit_named(gone.model, "changes 1/1")->state), "failed");
    EXPECT_NE(unit_named(gone.model, "changes 1/1")->message.find("b vanished"), std::string::npos);
}

TEST(RunScheduler, WhatTheGuardAllowedBeforeCopyingIsDeletedOnceARetryHoldsBackTheRest) {
    // A listed unit may delete the compare's 3 in its first attempt. Killed after 2, its
    // retry deletes nothing (--max-delete=0): what is left waits for the second pass, and
    // the run counts the 2 already gone (the guard's limit holds across attempts).
    TreeStats stats;
    Planner planner{stats, 1, Planner::Work::update};
    Config c = retrying_config();
    c.delete_extraneous = true;
    c.max_delete = {DeleteLimit::Kind::count, 3};
    WorkUnit listed;
    listed.name = "changes 1/1";
    listed.files = {"a", "a/gone1", "a/gone2", "a/gone3"};
    listed.folders = {"a"};
    listed.recursive = false;
    listed.deletions = 3;
    listed.max_delete = 3;
    RunModel model("run", {listed}, false, kNow);
    model.set_compared_entries(100);
    RunScheduler scheduler(model, planner, SchedulerSettings{c, false, this_host_only(1), "", "", true, std::nullopt});
    auto has = [](const command::Launch &l, const std::string &arg) {
        return std::find(l.arguments.begin(), l.arguments.end(), arg) != l.arguments.end();
    };
    auto settle = [&scheduler](Commands after) {
        for (std::size_t i = 0; i < after.size(); ++i)
            if (const auto *inspect = std::get_if<command::Inspect>(&after[i]))
                for (auto &command : scheduler.inspected(inspect->unit, {}, kNow)) after.push_back(command);
        return after;
    };
    const auto prepare = all_of<command::Prepare>(scheduler.start(kNow));
    ASSERT_EQ(prepare.size(), 1u);
    const auto first = all_of<command::Launch>(scheduler.prepared(prepare[0].unit, "", {}, kNow));
    ASSERT_EQ(first.size(), 1u);
    EXPECT_TRUE(has(first[0], "--max-delete=3")) << "the first attempt deletes what the guard allowed";
    AttemptExit killed;
    killed.signal = 9;
    killed.counters.deletions = 2;
    ASSERT_EQ(all_of<command::RetryAfter>(settle(scheduler.exited(prepare[0].unit, killed, kNow))).size(), 1u);
    const auto again = all_of<command::Prepare>(scheduler.retry_due(prepare[0].unit, kNow));
    ASSERT_EQ(again.size(), 1u);
    const auto second = all_of<command::Launch>(scheduler.prepared(again[0].unit, "", {}, kNow));
    ASSERT_EQ(second.size(), 1u);
    EXPECT_TRUE(has(second[0], "--max-delete=0")) << "a retry deletes nothing";
    EXPECT_FALSE(has(second[0], "--max-delete=3"));
    AttemptExit held;
    held.exit_code = 25;   // the third deletion held back
    held.errors.deletions_skipped = 1;
    const auto after = settle(scheduler.exited(again[0].unit, held, kNow));
    EXPECT_EQ(model.units()[0].deletions, 2u) << "the first attempt's deletions still count";
    EXPECT_EQ(model.units()[0].pending_deletions, 1u);
    // The second pass, after the source check, may delete only what is left of the limit.
    ASSERT_EQ(all_of<command::CheckSource>(after).size(), 1u);
    const auto pass = all_of<command::Prepare>(scheduler.source_checked(std::nullopt, kNow));
    ASSERT_EQ(pass.size(), 1u);
    const auto deleting = all_of<command::Launch>(scheduler.prepared(pass[0].unit, "", {}, kNow));
    ASSERT_EQ(deleting.size(), 1u);
    EXPECT_TRUE(has(deleting[0], "--max-delete=1")) << "3 allowed, 2 deleted already";
    ASSERT_TRUE(model.deletion_summary());
    EXPECT_EQ(model.deletion_summary()->before_copying, 2u);
    EXPECT_EQ(model.deletion_summary()->pending, 3u);
}
