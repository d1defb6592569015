// dailysyncd: argv -> mode. Wires the layers; holds no logic of its own.
#include <iostream>
#include <string>
#include <vector>

#include "cli.hpp"
#include "core/config.hpp"
#include "io/config_file.hpp"
#include "io/hook_reaper.hpp"
#include "service/daemon.hpp"
#include "service/diagnose.hpp"
#include "service/once.hpp"

#ifndef DAILYSYNCD_VERSION
#define DAILYSYNCD_VERSION "0"
#endif

using namespace dailysync;

int main(int argc, char **argv) {
    // Internal: the daemon starts itself so to keep one hook's process tree (io/hook_reaper.hpp).
    if (argc > 1 && argv[1] == kHookReaperFlag) return run_hook_reaper(std::vector<std::string>(argv + 2, argv + argc));
    const CommandLine cl = parse_command_line(std::vector<std::string>(argv + 1, argv + argc));
    if (!cl.error.empty()) {
        std::cerr << "dailysyncd: " << cl.error << "\nTry 'dailysyncd --help'.\n";
        return kExitUsage;
    }
    switch (cl.mode) {
    case Mode::help: std::cout << help_text(); return 0;
    case Mode::version: std::cout << "dailysyncd " << DAILYSYNCD_VERSION << "\n"; return 0;
    default: break;
    }
    // The daemon looks up where the trees really are (the overlap checks) on its workers
    // (run_daemon): a NAS that does not answer must not keep it from starting. The
    // foreground modes check at once.
    const ConfigResult loaded = cl.mode == Mode::daemon ? read_config_file(cl.config_path) : load_config_file(cl.config_path);
    if (!loaded.config) {
        std::cerr << "dailysyncd: " << format_config_error(cl.config_path, *loaded.error) << "\n";
        return kExitConfig;
    }
    if (cl.mode == Mode::check_config) {
        std::cout << config_to_json(*loaded.config, true);   // webhook tokens masked: this output gets pasted
        const auto warnings = config_warnings(*loaded.config);
        for (const auto &warning : warnings) std::cerr << "dailysyncd: warning: " << format_config_error(cl.config_path, warning) << "\n";
        return cl.strict && !warnings.empty() ? kExitConfig : 0;
    }
    if (cl.mode == Mode::once) return run_once(*loaded.config, cl.dry_run);
    if (cl.mode == Mode::diagnose) return run_diagnose(*loaded.config);
    return run_daemon(cl.config_path, *loaded.config, cl.user_bus);
}
