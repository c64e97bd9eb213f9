#include "common/state_io.hpp"

#include <array>
#include <stdexcept>

#include <fmt/format.h>

namespace memplast {

namespace {
void put(std::string& b, const void* p, std::size_t n) { b.append(static_cast<const char*>(p), n); }
}  // namespace

void StateIO::fail(const std::string& what) const {
  throw std::runtime_error(fmt::format("{}: {}", origin_, what));
}

void StateIO::need(std::size_t bytes, const char* name) const {
  if (buf_.size() - pos_ < bytes) {
    fail(fmt::format("ends early (truncated?) at byte {} while reading '{}'", pos_, name));
  }
}

void StateIO::expect_end() const {
  if (reading() && pos_ != buf_.size())
    fail(fmt::format("{} unexpected bytes after the last field", buf_.size() - pos_));
}

std::uint64_t StateIO::peek_count(const char* name, std::uint8_t type, std::size_t elem) {
  // Header: u16 name length, name, u8 type, u64 count.
  const std::size_t save = pos_;
  need(2, name);
  std::uint16_t len = 0;
  std::memcpy(&len, buf_.data() + pos_, 2);
  pos_ += 2;
  need(len + 9U, name);
  const std::string got(buf_.data() + pos_, len);
  pos_ += len;
  if (got != name) fail(fmt::format("expected field '{}', found '{}'", name, got));
  const auto t = static_cast<std::uint8_t>(buf_[pos_]);
  ++pos_;
  if (t != type) fail(fmt::format("field '{}': type {} stored, {} expected", name, t, type));
  std::uint64_t n = 0;
  std::memcpy(&n, buf_.data() + pos_, 8);
  pos_ = save;
  // Bound before anything is allocated from it.
  if (elem != 0 && n > (buf_.size() - pos_) / elem)
    fail(fmt::format("field '{}': {} elements do not fit in the file (truncated?)", name, n));
  return n;
}

void StateIO::size_error(const char* name, std::uint64_t stored, std::uint64_t expected) {
  fail(fmt::format("field '{}': {} elements stored, this configuration has {}", name, stored,
                   expected));
}

void StateIO::field(const char* name, std::uint8_t type, std::uint64_t n, std::size_t elem,
                    void* data, bool fixed) {
  const std::size_t len = std::strlen(name);
  if (writing_) {
    const auto l16 = static_cast<std::uint16_t>(len);
    put(buf_, &l16, 2);
    put(buf_, name, len);
    put(buf_, &type, 1);
    put(buf_, &n, 8);
    put(buf_, data, n * elem);
    return;
  }
  const std::uint64_t stored = peek_count(name, type, elem);
  if (stored != n) {
    if (fixed) size_error(name, stored, n);
  }
  pos_ += 2 + len + 1 + 8;
  need(n * elem, name);
  if (n * elem > 0) std::memcpy(data, buf_.data() + pos_, n * elem);
  pos_ += n * elem;
}

void StateIO::str(const char* name, std::string& s) {
  std::vector<char> v(s.begin(), s.end());
  vec(name, v, false);
  if (reading()) s.assign(v.begin(), v.end());
}

void StateIO::rng(const char* name, Rng& r) {
  auto a = r.raw_state();
  array(name, a.data(), a.size());
  if (reading()) r.set_raw_state(a);
}

void StateIO::rngs(const char* name, std::vector<Rng>& v) {
  std::vector<std::uint64_t> flat;
  flat.reserve(v.size() * 6);
  for (const auto& r : v) {
    const auto a = r.raw_state();
    flat.insert(flat.end(), a.begin(), a.end());
  }
  if (reading()) flat.resize(v.size() * 6);
  vec(name, flat, true);
  if (reading()) {
    for (std::size_t i = 0; i < v.size(); ++i) {
      std::array<std::uint64_t, 6> a{};
      for (std::size_t k = 0; k < 6; ++k) a[k] = flat[i * 6 + k];
      v[i].set_raw_state(a);
    }
  }
}

void StateIO::section(const char* name) {
  std::uint8_t mark = 0xA5;
  value(name, mark);
  if (reading() && mark != 0xA5) fail(fmt::format("section '{}': bad marker", name));
}

}  // namespace memplast
