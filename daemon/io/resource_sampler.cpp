#include "io/resource_sampler.hpp"

#include <array>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

namespace dailysync {

namespace {

// "some avg10=1.23 avg60=... total=123456" -> 123456: microseconds in which at least one
// task stalled on the resource. Per-interval shares come from its differences (avg10 is a
// 10-second moving average: it would lag behind the interval).
std::optional<std::uint64_t> stall_microseconds(const char *resource) {
    std::ifstream in(std::string("/proc/pressure/") + resource);
    std::string word;
    if (!(in >> word) || word != "some") return std::nullopt;
    while (in >> word)
        if (word.rfind("total=", 0) == 0) return std::strtoull(word.c_str() + 6, nullptr, 10);
    return std::nullopt;
}

// The values of `keys` in a "name value" file (/proc/vmstat) or "name: value kB" file
// (/proc/meminfo), read in one pass; 0 for a key that is missing.
template <std::size_t N>
std::array<std::uint64_t, N> field_values(const char *file, const std::array<std::string_view, N> &keys) {
    std::array<std::uint64_t, N> values{};
    std::ifstream in(file);
    std::string name;
    std::uint64_t value = 0;
    while (in >> name >> value) {
        if (!name.empty() && name.back() == ':') name.pop_back();
        for (std::size_t i = 0; i < N; ++i)
            if (name == keys[i]) values[i] = value;
        in.ignore(4096, '\n');
    }
    return values;
}

}  // namespace

int online_cores() {
    const long n = ::sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? static_cast<int>(n) : 1;
}

CpuTimes read_cpu_times() {
    CpuTimes t;
    if (std::FILE *f = std::fopen("/proc/stat", "re")) {
        unsigned long long user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
        if (std::fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &user, &nice, &system, &idle, &iowait, &irq, &softirq,
                        &steal) >= 4) {
            t.busy = user + nice + system + irq + softirq;
            t.iowait = iowait;
            t.steal = steal;
            t.total = t.busy + idle + iowait + steal;
        }
        std::fclose(f);
    }
    return t;
}

std::optional<BlockDevice> block_device_of(const std::string &path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || major(st.st_dev) == 0) return std::nullopt;   // tmpfs, FUSE, NFS: no block device
    return std::make_pair(major(st.st_dev), minor(st.st_dev));
}

ResourceSampler::ResourceSampler(std::optional<BlockDevice> source_device, std::optional<BlockDevice> destination_device)
    : source_device_(source_device), destination_device_(destination_device) {}

ResourceSampler::Counters ResourceSampler::read_counters(double now, const std::set<pid_t> &groups) const {
    Counters c;
    c.at = now;
    c.stall_cpu = stall_microseconds("cpu");
    c.stall_io = stall_microseconds("io");
    c.stall_memory = stall_microseconds("memory");
    const CpuTimes cpu = read_cpu_times();
    c.cpu_busy = cpu.busy;
    c.cpu_iowait = cpu.iowait;
    c.cpu_steal = cpu.steal;
    c.cpu_total = cpu.total;
    {
        std::ifstream in("/proc/diskstats");
        std::string line;
        while (std::getline(in, line)) {
            unsigned major_number = 0, minor_number = 0;
            char name[64];
            unsigned long long reads, reads_merged, sectors_read, read_ms, writes, writes_merged, sectors_written, write_ms,
                in_flight, io_ms;
            if (std::sscanf(line.c_str(), "%u %u %63s %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &major_number, &minor_number,
                            name, &reads, &reads_merged, &sectors_read, &read_ms, &writes, &writes_merged, &sectors_written,
                            &write_ms, &in_flight, &io_ms) != 13)
                continue;
            const auto device = std::make_pair(major_number, minor_number);
            if (source_device_ == device) {
                c.source_sectors_read = sectors_read;
                c.source_io_ms = io_ms;
            }
            if (destination_device_ == device) {
                c.destination_sectors_written = sectors_written;
                c.destination_io_ms = io_ms;
            }
        }
    }
    {
        std::ifstream in("/proc/net/dev");
        std::string line;
        while (std::getline(in, line)) {
            const auto colon = line.find(':');
            if (colon == std::string::npos) continue;
            std::string name = line.substr(0, colon);
            name.erase(0, name.find_first_not_of(' '));
            if (name == "lo") continue;
            std::istringstream fields(line.substr(colon + 1));
            std::uint64_t value = 0, received = 0, sent = 0;
            for (int i = 0; i < 9 && fields >> value; ++i) {
                if (i == 0) received = value;
                if (i == 8) sent = value;
            }
            c.network_bytes += received + sent;
        }
    }
    const auto vm = field_values<3>("/proc/vmstat", {"pswpin", "pswpout", "pgmajfault"});
    c.swap_pages = vm[0] + vm[1];
    c.major_faults = vm[2];
    if (!groups.empty()) {
        if (DIR *dir = ::opendir("/proc")) {
            while (const dirent *entry = ::readdir(dir)) {
                if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
                std::ifstream in(std::string("/proc/") + entry->d_name + "/stat");
                std::string text;
                std::getline(in, text);
                const auto close = text.rfind(')');   // the command name may hold spaces and parentheses
                if (close == std::string::npos) continue;
                std::istringstream rest(text.substr(close + 2));
                std::string state;
                long ppid = 0, pgrp = 0;
                rest >> state >> ppid >> pgrp;
                if (!groups.count(static_cast<pid_t>(pgrp))) continue;
                std::string skip;
                for (int i = 0; i < 8; ++i) rest >> skip;   // session .. cmajflt
                std::uint64_t utime = 0, stime = 0;
                rest >> utime >> stime;
                c.children_ticks += utime + stime;
            }
            ::closedir(dir);
        }
    }
    return c;
}

std::optional<ResourceSample> ResourceSampler::sample(double now, const std::set<pid_t> &groups, std::uint64_t files,
                                                      std::uint64_t bytes) {
    Counters c = read_counters(now, groups);
    c.files = files;
    c.bytes = bytes;
    std::optional<ResourceSample> out;
    if (previous_ && c.at > previous_->at) {
        const Counters &p = *previous_;
        const double dt = c.at - p.at;
        auto rate = [&](std::uint64_t now_value, std::uint64_t before) {
            return now_value > before ? static_cast<double>(now_value - before) / dt : 0.0;
        };
        ResourceSample s;
        const double cpu_dt = c.cpu_total > p.cpu_total ? static_cast<double>(c.cpu_total - p.cpu_total) : 0;
        if (cpu_dt > 0) {
            s.cpu_busy = static_cast<double>(c.cpu_busy - p.cpu_busy) / cpu_dt;
            s.cpu_iowait = static_cast<double>(c.cpu_iowait - p.cpu_iowait) / cpu_dt;
            s.cpu_steal = static_cast<double>(c.cpu_steal - p.cpu_steal) / cpu_dt;
        }
        auto stalled = [&](const std::optional<std::uint64_t> &now_value, const std::optional<std::uint64_t> &before) {
            return now_value && before ? std::optional<double>(std::min(1.0, rate(*now_value, *before) / 1e6)) : std::nullopt;
        };
        s.pressure_cpu = stalled(c.stall_cpu, p.stall_cpu);
        s.pressure_io = stalled(c.stall_io, p.stall_io);
        s.pressure_memory = stalled(c.stall_memory, p.stall_memory);
        if (source_device_) {
            s.source_disk_busy = std::min(1.0, rate(c.source_io_ms, p.source_io_ms) / 1000.0);
            s.source_read_bytes_per_second = rate(c.source_sectors_read, p.source_sectors_read) * 512.0;
        }
        if (destination_device_) {
            s.destination_disk_busy = std::min(1.0, rate(c.destination_io_ms, p.destination_io_ms) / 1000.0);
            s.destination_write_bytes_per_second = rate(c.destination_sectors_written, p.destination_sectors_written) * 512.0;
        }
        s.network_bytes_per_second = rate(c.network_bytes, p.network_bytes);
        const auto memory = field_values<2>("/proc/meminfo", {"MemTotal", "MemAvailable"});
        if (memory[0] > 0) s.memory_available = static_cast<double>(memory[1]) / static_cast<double>(memory[0]);
        s.swap_pages_per_second = rate(c.swap_pages, p.swap_pages);
        s.major_faults_per_second = rate(c.major_faults, p.major_faults);
        s.children_cores = rate(c.children_ticks, p.children_ticks) / static_cast<double>(::sysconf(_SC_CLK_TCK));
        s.children = static_cast<int>(groups.size());
        s.files_per_second = rate(c.files, p.files);
        s.bytes_per_second = rate(c.bytes, p.bytes);
        out = s;
    }
    previous_ = c;
    return out;
}

}  // namespace dailysync
