// Carries out a run's copying: the RunScheduler (core) decides, the supervisor does what it
// says. It launches rsync children through the ChildLauncher, turns their output, silence
// and exit into scheduler events, and runs the checks and clean-ups on the trees (through
// the Source and Destination ports) on the WorkerPool, each with a deadline: a NAS that
// stops answering turns into a reported failure, never into a blocked event loop.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "core/outcome.hpp"
#include "core/run_scheduler.hpp"
#include "io/child_launcher.hpp"
#include "io/destination.hpp"
#include "io/loop_timer.hpp"
#include "io/source.hpp"
#include "io/worker_pool.hpp"

namespace dailysync {

// What a run's io works through; all outlive the run.
struct RunPorts {
    std::shared_ptr<const Source> source;
    std::shared_ptr<const Destination> destination;
    std::vector<ChildLauncher *> launchers;   // one per executor (Settings::executors), this host first
    WorkerPool *pool = nullptr;
};

class Supervisor : public std::enable_shared_from_this<Supervisor> {
public:
    struct Settings {
        Config config;
        std::string rsync_program;   // resolved absolute path
        bool dry_run = false;
        std::vector<Executor> executors = this_host_only(1);   // where rsyncs run, and how many at once
        // The source folder the run started on: before each rsync, and again before any
        // deletion, the source must still be that folder (and pass the preflight checks
        // with `previous_entries`), or nothing more is started.
        std::optional<FolderIdentity> source_identity;
        std::uint64_t previous_entries = 0;
        // With versions: the folder rsync keeps what it overwrites or deletes in ("" =
        // none), and how the entries it creates are noted in the version (a blocking call,
        // made on the pool after each attempt; the run finishes once all are written).
        std::string backup_dir;
        // (scratch "": the version's own list; else the list beside that scratch folder)
        std::function<Done(const std::string &scratch, const std::vector<std::string> &)> note_creations;
        // Where the rsyncs after a unit's first keep their files, and how what they kept
        // is moved into the version (a blocking call, on the pool, after the attempt).
        std::string scratch_dir;
        std::function<Done(const std::string &scratch, WorkProgress &progress)> keep_scratch;
        // What the admin should read in the journal as it happens (an rsync left behind).
        std::function<void(const std::string &)> on_notice;
    };
    using OnChange = std::function<void()>;
    using OnDone = std::function<void()>;

    // `model` starts with planner.initial(); both must outlive the supervisor.
    static std::shared_ptr<Supervisor> create(boost::asio::io_context &io, RunModel &model, const Planner &planner,
                                              Settings settings, RunPorts ports, OnChange on_change, OnDone on_done);
    void start();
    // Stops the run: running children get SIGTERM (SIGKILL after the grace period),
    // units not started are cancelled. on_done follows once every child is gone.
    void cancel();
    // Changes how many children may run at once (running ones are not stopped).
    // This host's slots: the run's concurrency, as the controller adapts it.
    void set_concurrency(int concurrency);
    int concurrency() const { return scheduler_.slots(0); }
    std::set<pid_t> process_groups() const;   // one per running rsync (its pid)
    // Whether some note for the version failed or went unanswered: its scratch folders
    // must then stay for the next run to merge (VersionStore::recover_scratch).
    bool notes_failed() const { return notes_failed_; }
    // The tree as this run's rsync output showed it (finalized when the run is done).
    const TreeStats &seen() const { return scheduler_.seen(); }

private:
    Supervisor(boost::asio::io_context &io, RunModel &model, const Planner &planner, Settings settings, RunPorts ports,
               OnChange on_change, OnDone on_done);
    void execute(Commands commands);
    void carry_out(const command::Prepare &c);
    void carry_out(const command::Launch &c);
    void carry_out(const command::Kill &c);
    void carry_out(const command::Inspect &c);
    void carry_out(const command::RetryAfter &c);
    void carry_out(const command::CheckSource &c);
    void carry_out(const command::Finish &c);
    void done();
    void on_abandoned(std::size_t index, pid_t pid);   // journals an rsync left behind
    // The version's notes (creations, deleted folders, what a later rsync kept) are written
    // on the pool; the run finishes once all are written.
    // `merge_of`: a merge of that unit's scratch folder ("" = creations or folders).
    void write_note(std::function<Done(WorkProgress &)> work, std::string merge_of = {});
    void next_note();

public:
    // Hands what rsync created since the last call to the version (also called once a
    // second during the run, so a daemon that dies loses at most that much).
    void note_creations();

private:
    std::chrono::milliseconds deadline() const;   // for a call on the trees
    // Hands a call on the trees to the pool, remembering it so a cancel can give up on it.
    template <class T>
    void call_trees(std::function<T(WorkProgress &)> work, std::function<void(Worked<T>)> done);

    boost::asio::io_context &io_;
    RunModel &model_;
    Settings settings_;
    RunPorts ports_;
    OnChange on_change_;
    OnDone on_done_;
    RunScheduler scheduler_;
    std::map<std::size_t, std::shared_ptr<Child>> children_;
    std::map<std::size_t, std::unique_ptr<LoopTimer>> retry_timers_;
    struct Note {
        std::function<Done(WorkProgress &)> work;
        std::string merge_of;   // a merge of this unit: after the notes before it, and its earlier merges
    };
    static constexpr int kNotesAtOnce = 3;   // of the trees pool's 4 threads
    std::deque<Note> notes_;     // waiting to be written
    int notes_writing_ = 0;      // being written
    int plain_notes_writing_ = 0;   // of which creations and folders (not merges)
    std::set<std::string> merging_;  // units whose merge is being written
    bool notes_failed_ = false;      // a note could not be written (or did not answer in time)
    bool finish_waiting_ = false;               // Finish came while some were
    std::map<std::size_t, std::pair<std::string, std::string>> scratch_of_;   // a running unit's scratch folder, and the unit
    std::vector<std::weak_ptr<WorkProgress>> calls_;   // calls on the trees not answered yet
};

}  // namespace dailysync
