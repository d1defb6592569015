// A TCP proxy that delays every chunk by a fixed one-way latency in each direction, so
// sshfs over loopback behaves like a NAS on a LAN (tc netem is not available here).
//   latency_proxy LISTEN_PORT TARGET_PORT ONE_WAY_MICROSECONDS
// Loopback only. One thread, Boost.Asio; order is preserved, bandwidth is not limited.
#include <boost/asio.hpp>
#include <chrono>
#include <cstdio>
#include <deque>
#include <memory>
#include <vector>

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

std::chrono::microseconds g_delay;

// One direction of a connection: read from `from`, deliver to `to` `g_delay` later.
class Pipe : public std::enable_shared_from_this<Pipe> {
public:
    Pipe(std::shared_ptr<tcp::socket> from, std::shared_ptr<tcp::socket> to)
        : from_(std::move(from)), to_(std::move(to)), timer_(from_->get_executor()) {}
    void start() { read(); }

private:
    struct Chunk {
        Clock::time_point due;
        std::vector<char> data;
    };
    void read() {
        auto self = shared_from_this();
        from_->async_read_some(asio::buffer(buffer_), [self](boost::system::error_code ec, std::size_t n) {
            if (ec) {
                self->eof_ = true;
                if (self->queue_.empty()) self->close();
                return;
            }
            self->queue_.push_back({Clock::now() + g_delay, std::vector<char>(self->buffer_.begin(), self->buffer_.begin() + n)});
            if (self->queue_.size() == 1) self->deliver();
            self->read();
        });
    }
    void deliver() {
        auto self = shared_from_this();
        timer_.expires_at(queue_.front().due);
        timer_.async_wait([self](boost::system::error_code ec) {
            if (ec) return;
            asio::async_write(*self->to_, asio::buffer(self->queue_.front().data), [self](boost::system::error_code ec, std::size_t) {
                if (ec) return self->close();
                self->queue_.pop_front();
                if (!self->queue_.empty()) self->deliver();
                else if (self->eof_) self->close();
            });
        });
    }
    void close() {
        boost::system::error_code ignored;
        to_->shutdown(tcp::socket::shutdown_send, ignored);
    }
    std::shared_ptr<tcp::socket> from_, to_;
    asio::steady_timer timer_;
    std::array<char, 65536> buffer_{};
    std::deque<Chunk> queue_;
    bool eof_ = false;
};

void accept(tcp::acceptor &acceptor, unsigned short target) {
    acceptor.async_accept([&acceptor, target](boost::system::error_code ec, tcp::socket client) {
        if (!ec) {
            auto down = std::make_shared<tcp::socket>(std::move(client));
            auto up = std::make_shared<tcp::socket>(acceptor.get_executor());
            up->async_connect(tcp::endpoint(asio::ip::address_v4::loopback(), target), [down, up](boost::system::error_code ec) {
                if (ec) return;
                down->set_option(tcp::no_delay(true));
                up->set_option(tcp::no_delay(true));
                std::make_shared<Pipe>(down, up)->start();
                std::make_shared<Pipe>(up, down)->start();
            });
        }
        accept(acceptor, target);
    });
}

}  // namespace

int main(int argc, char **argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: latency_proxy LISTEN_PORT TARGET_PORT ONE_WAY_MICROSECONDS\n");
        return 64;
    }
    g_delay = std::chrono::microseconds(std::atoi(argv[3]));
    asio::io_context io;
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), static_cast<unsigned short>(std::atoi(argv[1]))));
    accept(acceptor, static_cast<unsigned short>(std::atoi(argv[2])));
    io.run();
}
